"""The ``beatdebate`` command line: a thin shell over library functions.

Each command parses its options, calls one library function, prints, and exits with a
documented code. Heavy imports happen inside the commands so that ``--help`` stays fast,
and ``locust`` is never imported here: it monkey-patches the interpreter with gevent, so
``beatdebate locust`` runs it as a subprocess.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="beatdebate",
    help="A session-aware music recommender, and a load harness that proves its users stay apart.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="Work with music catalogs.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


# ---- section: serve (owner: server) ----------------------------------------------------

# ---- end section: serve ----


# ---- section: catalog (owner: catalog) -------------------------------------------------

# ---- end section: catalog ----


# ---- section: harness (owner: harness: simulate, gate, check) --------------------------

# ---- end section: harness ----


# ---- section: locust (owner: locust) ---------------------------------------------------

# ---- end section: locust ----


if __name__ == "__main__":
    app()
