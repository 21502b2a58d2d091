"""The isolation oracle: a recorded history in, a verdict with witnesses out.

``check(ops)`` judges a whole history; ``IncrementalChecker`` does the same op by op and
reports early what it can. ``PROPERTIES`` names every rule with its class (bleeding or
loss); ``explain`` turns witnesses into prose and curl commands.
"""

from loadtest.oracle import explain as explain
from loadtest.oracle.checker import IncrementalChecker as IncrementalChecker
from loadtest.oracle.checker import check as check
from loadtest.oracle.explain import curl_for as curl_for
from loadtest.oracle.explain import describe as describe
from loadtest.oracle.model import PROPERTIES as PROPERTIES
from loadtest.oracle.model import Anomaly as Anomaly
from loadtest.oracle.model import AnomalyClass as AnomalyClass
from loadtest.oracle.model import Checked as Checked
from loadtest.oracle.model import Verdict as Verdict

__all__ = ["PROPERTIES", "Anomaly", "AnomalyClass", "Checked", "IncrementalChecker", "Verdict",
           "check", "curl_for", "describe", "explain"]
