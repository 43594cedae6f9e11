#!/usr/bin/python3
"""Turns the openspf YAML test suite (a stream of scenario documents) into
one JSON array on stdout, for the C conformance runner (spf_conformance)."""
import json
import sys

import yaml


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: spf_yaml2json.py SUITE.yml")
    with open(sys.argv[1], encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    json.dump(docs, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
