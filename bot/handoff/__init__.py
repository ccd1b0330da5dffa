"""Handing conversations from the bot to people and back."""
