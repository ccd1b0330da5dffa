"""Open intent classification on BANKING77, next to the published systems.

The open-intent literature's setting (Zhang et al. 2021, AAAI; the TEXTOIR
benchmark table in :data:`bench.nlu.published.OPEN_INTENT`): a share of
BANKING77's intents is kept known (25, 50 or 75 %), the rest become one open
class, and a system must answer the known ones and set the open ones aside.
Each (ratio, seed) is one ``python -m bench.nlu.run --public banking77
--known-ratio R --seed S --known-only-validation`` run of the given config:
the figures at its own thresholds (chosen on CLINC150's validation split),
and at the threshold the rule chooses on the known intents' validation
examples alone (no open message, validation or test, tunes anything):
``--rule simulated`` (the default) sets aside what simulating unknown
intents among the known ones chose (``--simulated-open 4``,
:mod:`bench.nlu.simulated_open`); ``--rule max-drop`` whatever loses 3
points of their accuracy (``--max-drop 0.03``). The run files of the
simulated rule are named ``…-seedS-simulated``.

``python -m bench.nlu.open_intent`` runs every (ratio, seed) in a child
process each, then writes the mean over seeds per ratio beside the published
figures to ``bench/results/nlu-banking77-open-intent-<date>.json``;
``--summarise FILE ...`` only averages run files already written (to
``nlu-banking77-open-intent-simulated-<date>.json`` for the simulated rule).
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.nlu.published import OPEN_INTENT

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
CONFIG = ROOT / "bench" / "nlu" / "configs" / "linear-dense-knn-novelty.yml"
FIELDS = ("accuracy", "macro_f1", "open_f1", "known_f1")
#: The choosing rules on the known intents' validation examples: the
#: threshold losing at most 3 points of their top-intent accuracy, or the
#: share of them set aside that a simulation with 4 groups of known intents
#: left out by turns chose.
RULES = {
    "simulated": ("--simulated-open", "4"),
    "max-drop": ("--max-drop", "0.03"),
}


def run_one(
    ratio: float, seed: int, config: Path, out: Path, rule: str = "simulated"
) -> Path:
    """One ``bench.nlu.run`` child process; the path of the result it wrote.

    Raises:
        RuntimeError: The run failed.
    """
    name = f"banking77-known{round(100 * ratio)}-seed{seed}" + (
        "-simulated" if rule == "simulated" else ""
    )
    command = [sys.executable, "-m", "bench.nlu.run", "--public", "banking77"]
    command += ["--known-ratio", str(ratio), "--seed", str(seed)]
    command += ["--known-only-validation", *RULES[rule]]
    command += ["--config", str(config), "--name", name, "--out", str(out)]
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name}: {done.stderr.strip()[-2000:]}")
    print(done.stdout, flush=True)
    paths = sorted(out.glob(f"nlu-{name}-*.json"))
    if not paths:
        raise RuntimeError(f"{name}: no result file in {out}")
    return paths[-1]


def _averaged(
    open_figures: Sequence[dict[str, float]], figures: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """Each run's open-intent and out-of-scope figures in per cent, and their mean."""
    per_seed = {
        field: [round(100 * run[field], 2) for run in open_figures] for field in FIELDS
    }
    per_seed["oos_recall"] = [round(100 * run["oos_recall"], 2) for run in figures]
    per_seed["in_scope_accuracy"] = [
        round(100 * run["in_scope_accuracy"], 2) for run in figures
    ]
    return {
        "mean": {field: round(statistics.mean(v), 2) for field, v in per_seed.items()},
        "per_seed": per_seed,
    }


def summarise(paths: Sequence[Path]) -> dict[str, Any]:
    """The mean (and spread) over seeds of each known ratio's runs.

    Raises:
        ValueError: A file that is not an open-intent run, or two runs of one
            config that differ in it.
    """
    runs: dict[float, list[dict[str, Any]]] = {}
    configs = set()
    for path in paths:
        result = json.loads(path.read_text(encoding="utf-8"))
        if "known_ratio" not in result or "open_intent" not in result:
            raise ValueError(f"{path}: not a --known-ratio run")
        configs.add(result["config"]["sha256"])
        runs.setdefault(float(result["known_ratio"]), []).append(
            {"file": path.name, **result}
        )
    if len(configs) > 1:
        raise ValueError("the runs used different configs")
    ratios = {}
    for ratio, group in sorted(runs.items()):
        entry: dict[str, Any] = {
            "runs": [run["file"] for run in group],
            "seeds": len(group),
            "at_config_threshold": _averaged(
                [run["open_intent"] for run in group],
                [run["at_config_threshold"] for run in group],
            ),
        }
        chosen = [
            run["validation_choice"] for run in group if "validation_choice" in run
        ]
        if len(chosen) == len(group):
            entry["at_validation_choice"] = {
                "rule": chosen[0]["rule"].split(" of the in-scope")[0]
                if "simulated_open" in group[0]
                else chosen[0]["rule"],
                "combined_thresholds": [c["combined_threshold"] for c in chosen],
                **_averaged(
                    [run["open_intent_at_validation_choice"] for run in group],
                    [c["test"] for c in chosen],
                ),
            }
            simulated = [
                run["simulated_open"] for run in group if "simulated_open" in run
            ]
            if simulated:
                entry["at_validation_choice"]["set_aside"] = [
                    round(s["set_aside"], 4) for s in simulated
                ]
                # What the simulation's other criteria would have given.
                entry["simulated_criteria"] = {
                    criterion: {
                        "set_aside": [
                            round(s["by_criterion"][criterion]["set_aside"], 4)
                            for s in simulated
                        ],
                        **_averaged(
                            [
                                s["by_criterion"][criterion]["open_intent"]
                                for s in simulated
                            ],
                            [s["by_criterion"][criterion]["test"] for s in simulated],
                        ),
                    }
                    for criterion in simulated[0]["by_criterion"]
                }
        entry["train_cpu_seconds"] = [run["train_cpu_seconds"] for run in group]
        entry["parse_per_second"] = [run["parse_per_second"] for run in group]
        entry["published"] = group[0].get("published_open_intent", {}).get("results")
        ratios[f"{ratio:g}"] = entry
    first = next(iter(runs.values()))[0]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "what": "open intent classification on BANKING77 (bench.nlu.open_intent)",
        "config": first["config"],
        "machine": first["machine"],
        "git_commit": first["git_commit"],
        "data": "BANKING77, Casanueva et al. 2020, CC BY 4.0, from "
        "../shared/datasets (not copied); each seed keeps round(77 x ratio) "
        "intents drawn by bench.nlu.data.hold_out_intents, trains on 80 % of "
        "their training examples, tests on all 3,080 test messages",
        "published_source": OPEN_INTENT["source"],
        "simulated": "simulated_open" in first,
        "ratios": ratios,
    }


def table(summary: dict[str, Any]) -> str:
    """The means beside the published figures, as plain text."""
    widths = (7, 9, 8, 9)

    def row(ratio: str, system: str, figures: dict[str, float]) -> str:
        cells = " ".join(
            f"{figures[field]:>{width}.2f}"
            for field, width in zip(FIELDS, widths, strict=True)
        )
        return f"{ratio:<6} {system:<40} {cells}"

    lines = [
        f"{'known':<6} {'system':<40} {'acc':>7} {'macro F1':>9} {'open F1':>8} "
        f"{'known F1':>9}"
    ]
    for ratio, entry in summary["ratios"].items():
        seeds = entry["seeds"]
        lines.append(
            row(
                ratio,
                f"this pipeline, config threshold ({seeds})",
                entry["at_config_threshold"]["mean"],
            )
        )
        if "at_validation_choice" in entry:
            lines.append(
                row(
                    "",
                    f"this pipeline, known-only validation ({seeds})",
                    entry["at_validation_choice"]["mean"],
                )
            )
        for system, figures in (entry["published"] or {}).items():
            lines.append(row("", system, figures))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.nlu.open_intent``."""
    parser = argparse.ArgumentParser(prog="python -m bench.nlu.open_intent")
    parser.add_argument("--ratios", default="0.25,0.5,0.75")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--rule",
        choices=sorted(RULES),
        default="simulated",
        help="how the threshold is chosen on the known intents' validation "
        "examples (default: simulated)",
    )
    parser.add_argument(
        "--summarise", nargs="+", type=Path, help="average these run files only"
    )
    args = parser.parse_args(argv)
    try:
        if args.summarise:
            paths = list(args.summarise)
        else:
            paths = [
                run_one(float(ratio), int(seed), args.config, args.out, args.rule)
                for ratio in args.ratios.split(",")
                for seed in args.seeds.split(",")
            ]
        summary = summarise(paths)
    except (RuntimeError, ValueError) as error:
        print(f"open intent: {error}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    rule = "-simulated" if summary["simulated"] else ""
    path = args.out / f"nlu-banking77-open-intent{rule}-{summary['date'][:10]}.json"
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(table(summary))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
