"""The knowledge base's search index: published articles, found by any form of their Russian and
English words, ranked, with highlighted snippets, within what the caller may read.

The knowledge service's projection creates the tables (`index_schema`) in its view and calls `put`
when an article is published or a published one revised, `remove` when it is archived, inside the
projection's transaction; its API answers with `search` and `suggest`.
"""

from services.knowledge.search.model import Audience, Hit, IndexedArticle
from services.knowledge.search.queries import search, suggest
from services.knowledge.search.tables import index_schema, put, remove

__all__ = ["Audience", "Hit", "IndexedArticle", "index_schema", "put", "remove", "search", "suggest"]
