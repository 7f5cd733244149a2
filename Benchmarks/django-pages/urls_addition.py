
# Added by Keel's Benchmarks/run to its copy of the peer (Benchmarks/django-pages/): the article page.
from conduit.pages.article_page import article  # noqa: E402

urlpatterns.insert(0, path("article/<str:slug>", article, name="article"))
