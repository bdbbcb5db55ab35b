"""Entry point for Tortoise's own CLI (`tortoise -c tortoise_config.TORTOISE_ORM makemigrations`)."""

from app.core.settings import load_settings
from models.db import tortoise_config

TORTOISE_ORM = tortoise_config(load_settings())
