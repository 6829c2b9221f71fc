"""CareLoop backend: closed-loop referral service behind the mobile apps."""

import os

os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")
