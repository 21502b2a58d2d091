"""The isolation oracle: a recorded history in, a verdict with witnesses out.

``check(ops)`` judges a whole history; ``IncrementalChecker`` does the same op by op and
reports early what it can. ``REGISTRY`` holds every property as data (class, description,
the evidence it needs, what a run must exercise, its detector); ``checkable(evidence)``
names those a target showing that evidence can be judged on; ``PROPERTIES`` is the registry
as property -> (class, description). ``explain`` turns witnesses into prose and curl commands.
"""

from loadtest.oracle import explain as explain
from loadtest.oracle.checker import IncrementalChecker as IncrementalChecker
from loadtest.oracle.checker import check as check
from loadtest.oracle.explain import curl_for as curl_for
from loadtest.oracle.explain import describe as describe
from loadtest.oracle.model import ALL_EVIDENCE as ALL_EVIDENCE
from loadtest.oracle.model import Anomaly as Anomaly
from loadtest.oracle.model import AnomalyClass as AnomalyClass
from loadtest.oracle.model import Checked as Checked
from loadtest.oracle.model import Evidence as Evidence
from loadtest.oracle.model import Verdict as Verdict
from loadtest.oracle.properties import PROPERTIES as PROPERTIES
from loadtest.oracle.properties import REGISTRY as REGISTRY
from loadtest.oracle.properties import Exercise as Exercise
from loadtest.oracle.properties import Property as Property
from loadtest.oracle.properties import checkable as checkable

__all__ = ["ALL_EVIDENCE", "PROPERTIES", "REGISTRY", "Anomaly", "AnomalyClass", "Checked", "Evidence",
           "Exercise", "IncrementalChecker", "Property", "Verdict", "check", "checkable", "curl_for",
           "describe", "explain"]
