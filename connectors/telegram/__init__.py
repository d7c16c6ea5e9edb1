"""The Telegram bot (aiogram 3): webhook in production, long polling for development."""
