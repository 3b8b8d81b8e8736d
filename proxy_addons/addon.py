"""The `mitmdump -s` entry point: `mitmdump -s proxy_addons/addon.py --set gonogo_policy=POLICY`.

It only lists the gateway's addons (see `proxy_addons/gateway/addons.py`); `gonogo run` uses the same list.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # loaded as `mitmdump -s proxy_addons/addon.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from proxy_addons.gateway.addons import make_addons

addons = make_addons()
