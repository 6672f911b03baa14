"""mitmproxy script for maskgate: `mitmdump -s addon/maskgate_addon.py`.

`maskgate run` loads the same addon without this script, so that a broken install
stops the proxy instead of leaving it running unprotected; see the README.
"""

from maskgate.addon import MaskGate

addons = [MaskGate()]
