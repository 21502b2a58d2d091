"""The music catalog: its records, the shipped catalog and user catalogs, and synthetic ones.

``load_catalog()`` loads the catalog shipped with the package; ``load_catalog(path)`` loads
a user's JSONL or CSV file (schema: ``docs/catalog.md``); ``write_synthetic_catalog`` writes
a large made-up one for load tests.
"""

from .load import CatalogError as CatalogError
from .load import load_catalog as load_catalog
from .model import ACTIVITIES as ACTIVITIES
from .model import GENRES as GENRES
from .model import MOODS as MOODS
from .model import Artist as Artist
from .model import Catalog as Catalog
from .model import Track as Track
from .synth import write_synthetic_catalog as write_synthetic_catalog

__all__ = [
    "ACTIVITIES",
    "GENRES",
    "MOODS",
    "Artist",
    "Catalog",
    "CatalogError",
    "Track",
    "load_catalog",
    "write_synthetic_catalog",
]
