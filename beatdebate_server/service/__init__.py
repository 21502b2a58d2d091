"""The service layer: one turn from query to recorded answer, and the sessions it opens.

``TurnService`` (``turn.py``) is the production ``SessionService``: it reaches sessions only
through a ``SessionStore`` and answers through an ``Answering`` (``answers.py``: the primary
recommender within its budget, else the fallback, with injected ``faults`` for load tests).
It imports the domain core and the store seam, never HTTP; the HTTP layer renders its
``TurnOutcome`` as the contract's JSON.
"""

from .answers import Answering as Answering
from .answers import Answers as Answers
from .answers import Reply as Reply
from .faults import FaultInjector as FaultInjector
from .faults import InjectedFault as InjectedFault
from .turn import SessionService as SessionService
from .turn import TurnMetrics as TurnMetrics
from .turn import TurnOutcome as TurnOutcome
from .turn import TurnRequest as TurnRequest
from .turn import TurnService as TurnService

__all__ = ["Answering", "Answers", "FaultInjector", "InjectedFault", "Reply", "SessionService",
           "TurnMetrics", "TurnOutcome", "TurnRequest", "TurnService"]
