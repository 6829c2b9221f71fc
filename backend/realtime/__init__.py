"""The realtime stream: events written with each change, a bus between processes, the hub.

``UVICORN_WEBSOCKETS``: the uvicorn WebSocket implementation CareLoop serves with. wsproto keeps
~3 KiB less per open socket than uvicorn's default (measured with ``make bench-realtime``), and
idle subscribed sockets are what a realtime server holds most of.
"""

UVICORN_WEBSOCKETS = "wsproto"
