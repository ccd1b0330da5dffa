"""Knowledge-base search benchmark: accuracy on held-out questions and latency."""
