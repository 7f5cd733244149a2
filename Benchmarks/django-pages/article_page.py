"""The article page, added by Keel's Benchmarks/run to its copy of the Django peer (shared/peers/django_conduit has the
home page only): the counterpart of Conduit's GET /article/:slug, signed out.

The same reads as the peer's GET /api/articles/:slug and GET /api/articles/:slug/comments (author by JOIN, favorites
count by subquery, tags by one prefetch; comments with their authors by JOIN), rendered through Django's template
engine with autoescaping. The body goes through Django's `linebreaks` filter (escaped text in paragraphs), not a
Markdown renderer as Conduit's does: less work on this side, so the ratio is, if anything, in Django's favour.
"""

from django.http import Http404
from django.shortcuts import render

from conduit.articles.models import Article, Comment


def article(request, slug):
    try:
        found = Article.objects.for_viewer(None).get(slug=slug)
    except Article.DoesNotExist:
        raise Http404("article not found")
    comments = Comment.objects.for_viewer(None).filter(article=found)
    return render(request, "pages/article.html", {"article": found, "comments": comments})
