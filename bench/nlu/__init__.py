"""NLU benchmark: train a Rasa NLU pipeline on CSV data, measure it on a test set."""
