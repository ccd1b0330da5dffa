"""Replacing Rasa's model without stopping it from answering.

Rasa pulls the live model from the hub every ``BATON_MODEL_PULL_SECONDS``
(``models:`` in ``endpoints.yml``). Rasa 3.6 then loads the new model inside
its event loop (``rasa.core.agent._update_model_from_server``): for the
15-20 s a load takes on two cores it answers nothing at all, so every turn
in flight waits, and to the hub Rasa looks frozen. :func:`install` has the
Rasa server load it in a worker thread instead, parse one message with it
there (the first parse of a model is the slow one), and only then put it in
place, in one step of the event loop: turns carry on with the old model
until the new one is ready.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: The interpreter's thread switch interval while a model loads (see below).
LOADING_SWITCH_INTERVAL_S = 0.0005
#: How many models are loading in this process now (:func:`loading`).
_loads = 0


def loading() -> bool:
    """Whether a new model is loading beside the running one right now.

    The load takes most of the CPU and slows the event loop's every socket
    call: the action deadline allows for it (:mod:`bot.assistant.channel`).
    """
    return _loads > 0


def install() -> None:
    """Make the Rasa server's model pulling load new models off its event loop.

    Called in the Rasa server's process before Rasa starts
    (:mod:`bot.rasa_server`). Rasa's pulling job looks the function up by
    name on every pull, so replacing it is enough.
    """
    import rasa.core.agent

    rasa.core.agent._update_model_from_server = update_model_from_server


async def update_model_from_server(model_server: Any, agent: Any) -> None:
    """Pull the model if the server has a new one, load it aside, then swap.

    As Rasa's own: a failure is logged and the previous model stays loaded.
    """
    global _loads
    import aiohttp
    from rasa.core.agent import _pull_model_and_fingerprint
    from rasa.nlu.utils import is_url
    from rasa.utils.common import TempDirectoryPath, get_temp_dir_name

    if not is_url(model_server.url):
        raise aiohttp.InvalidURL(model_server.url)
    with TempDirectoryPath(get_temp_dir_name()) as directory:
        try:
            fingerprint = await _pull_model_and_fingerprint(
                model_server, agent.fingerprint, directory
            )
            if not fingerprint:
                return
            logger.info("loading the new model beside the running one")
            # The loading thread holds the GIL for long stretches; the event
            # loop, which lets it go at every socket call, would wait up to
            # the switch interval (5 ms) to get it back each time: turns and
            # action calls would crawl. A finer interval while loading.
            interval = sys.getswitchinterval()
            sys.setswitchinterval(LOADING_SWITCH_INTERVAL_S)
            _loads += 1
            try:
                processor = await asyncio.to_thread(
                    load_warm_processor, agent, directory
                )
            finally:
                _loads -= 1
                sys.setswitchinterval(interval)
            swap_processor(agent, processor, fingerprint)
            logger.info("now running model %s", processor.model_metadata.model_id)
        except Exception:
            logger.exception("could not load the new model; the previous one stays")


def load_warm_processor(agent: Any, model_path: str | Path) -> Any:
    """A message processor for the model at ``model_path``, having parsed once.

    Runs in a worker thread: nothing here touches the running processor.
    """
    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor

    from bot.assistant.channel import WARM_UP_TEXT

    processor = MessageProcessor(
        model_path=model_path,
        tracker_store=agent.tracker_store,
        lock_store=agent.lock_store,
        action_endpoint=agent.action_endpoint,
        generator=agent.nlg,
        http_interpreter=agent.http_interpreter,
    )
    asyncio.run(processor.parse_message(UserMessage(WARM_UP_TEXT)))
    return processor


def swap_processor(agent: Any, processor: Any, fingerprint: str) -> None:
    """Put a loaded processor in place, as ``Agent.load_model`` does (Rasa 3.6).

    All of it in one step, with no ``await`` in between, so that no turn
    sees half of it.
    """
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    agent.processor = processor
    agent.domain = processor.domain
    agent.fingerprint = fingerprint
    agent.tracker_store.domain = agent.domain
    if isinstance(agent.nlg, TemplatedNaturalLanguageGenerator):
        agent.nlg.responses = agent.domain.responses if agent.domain else {}
