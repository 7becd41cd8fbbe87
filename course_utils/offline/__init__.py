"""Running without the Hub: the registry of every Hub ID the notebooks name and the online probe
(`hub`), the offline kit of stand-ins (`kit`), where it keeps its files (`store`), the recipes
that build stand-ins (`recipes`) from packaged and generated text (`corpora`), and the
pre-download for workshops (`prefetch`)."""
