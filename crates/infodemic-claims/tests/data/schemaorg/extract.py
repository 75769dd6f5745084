#!/usr/bin/env python3
"""Writes vocabulary-subset.jsonld from a schema.org release (see SOURCE.txt).

Usage: extract.py schemaorg-current-https.jsonld > vocabulary-subset.jsonld

Keeps the properties `claim_review` writes and the types it uses, with every supertype of
those types, so the test can walk subClassOf chains. Comments and cross-vocabulary
mappings are dropped to keep the file small; ids, labels, subClassOf, domainIncludes,
rangeIncludes and supersededBy are kept as published.
"""
import json
import sys

PROPERTIES = [
    "alternateName", "appearance", "author", "bestRating", "claimReviewed", "datePublished",
    "description", "firstAppearance", "headline", "identifier", "inLanguage", "itemReviewed",
    "name", "ratingValue", "reviewBody", "reviewRating", "url", "worstRating",
]
TYPES = [
    "ClaimReview", "Review", "CreativeWork", "Thing", "Claim", "Rating", "Organization", "Person",
    # Data types: what string and number values are checked against.
    "DataType", "Text", "URL", "Date", "DateTime", "Number", "Integer", "Boolean",
]
KEEP = ["@id", "@type", "rdfs:label", "rdfs:subClassOf", "schema:domainIncludes",
        "schema:rangeIncludes", "schema:supersededBy"]


def ids(value):
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [v["@id"] for v in values]


graph = {node["@id"]: node for node in json.load(open(sys.argv[1]))["@graph"]}
wanted = ["schema:" + name for name in TYPES + PROPERTIES]
seen = set()
while wanted:
    node_id = wanted.pop()
    if node_id in seen:
        continue
    seen.add(node_id)
    wanted.extend(i for i in ids(graph[node_id].get("rdfs:subClassOf")) if i.startswith("schema:"))

nodes = [{k: graph[i][k] for k in KEEP if k in graph[i]} for i in sorted(seen)]
document = {
    "@context": {
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "schema": "https://schema.org/",
    },
    "@graph": nodes,
}
json.dump(document, sys.stdout, indent=1, sort_keys=True)
sys.stdout.write("\n")
