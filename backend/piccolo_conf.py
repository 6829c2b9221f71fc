"""Piccolo's configuration module: the engine chosen by ``DATABASE_URL`` and our one app."""

from piccolo.conf.apps import AppRegistry

from backend.db import create_engine
from backend.settings import get_settings

DB = create_engine(get_settings())

APP_REGISTRY = AppRegistry(apps=["backend.piccolo_app"])
