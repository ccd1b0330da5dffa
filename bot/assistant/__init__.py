"""Talking to the Rasa assistant: the hub's client and Rasa's input channel."""
