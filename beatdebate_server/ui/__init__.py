"""The chat page (``beatdebate serve --ui``): a Gradio front end at ``/ui``, one
conversation per browser tab.

Terms:
- *tab session*: the backend session id a tab carries, held in that tab's ``gr.State``
  and replaced by whatever id the backend's answer names (contract, "Sessions"). There is
  no module-level or instance-level conversation state: a reload starts a new tab session.
- *session policy*: where a handler reads and writes that id (``sessions.py``). The clean
  policy is the tab's own state; ``--defect ui-global-session`` swaps in one id shared by
  every tab, as the original front end had.
- *envelope*: ``{"status": HTTP status, "body": JSON body}`` of the backend answer behind
  the latest event, the last output of every API endpoint (``docs/ui.md``).

Gradio is the optional extra ``ui``: it is imported only by ``mount_ui``, so the server
runs without it, and ``require_gradio`` says how to install it.
"""

from .mount import UI_PATH as UI_PATH
from .mount import UiUnavailable as UiUnavailable
from .mount import mount_ui as mount_ui
from .mount import require_gradio as require_gradio

__all__ = ["UI_PATH", "UiUnavailable", "mount_ui", "require_gradio"]
