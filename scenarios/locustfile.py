"""What Locust loads: ``beatdebate locust``, or ``locust -f scenarios/locustfile.py --host URL``.

The virtual user, its master/worker messaging, the preflight and the Isolation tab live in
``loadtest.locustfile`` (see ``docs/locust.md``); importing its ``hooks`` registers their
event listeners, and Locust finds the user class among this module's names.
"""

from loadtest.locustfile import hooks as hooks
from loadtest.locustfile.user import ConversationUser as ConversationUser

__all__ = ["ConversationUser", "hooks"]
