"""BeatDebate's isolation scenarios under Locust: many users, one checker, violations as failures.

What Locust loads is ``scenarios/locustfile.py`` (``beatdebate locust``, or ``locust -f
scenarios/locustfile.py --host URL``; see ``docs/locust.md``), a few lines that import the
user class and the event hooks from here. This is the only part of the project that imports
Locust, which monkey-patches the interpreter with gevent when imported; hence the package's
name, which the import rule (``tests/locust/test_import_rule.py``) reads. ``loadtest``'s
``__init__``, the command line and the launcher (``loadtest.locust_runner``) never import it.

Modules:
- ``options``: the locustfile's own command-line options, and what they name: the test's
  plan (target profile, scenarios, evidence, allowed properties) and the personas. No
  Locust import.
- ``preflight``: sets aside the personas the target cannot serve, before the load, in a child
  process (``python -m loadtest.locustfile.preflight``: it is asyncio code). No Locust import.
- ``process``: one process's share of a run: its scenarios, its ops, its incremental
  checker, the violation rows it has found. No Locust import.
- ``merged``: the master's one checker over every worker's operations (a distributed run
  judged as a whole): the batches' format, the merged numbering, the bounds past which the
  master says it cannot keep up. No Locust import.
- ``messaging``: where rows go: reported as failures on the reporting process (the master,
  or the only one), sent there by workers, and the final verdicts gathered at the end.
- ``web``: the web UI's Isolation tab and its ``/isolation`` routes.
- ``wire``: an exchange's request on Locust's HTTP client (body, cookies) and its answer
  as a ``Reply``. No Locust import.
- ``user``: the virtual user, ``ConversationUser``: it talks through the profile's exchange.
- ``hooks``: every Locust event listened to, in one place.

Nothing here judges isolation: ``loadtest.oracle`` does.
"""
