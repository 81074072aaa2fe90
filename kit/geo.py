"""Iran's provinces (the tenants) and counties, from data/iran/ shipped with the project."""
import csv
import functools
import os

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "iran")


@functools.lru_cache(maxsize=1)
def provinces():
    with open(os.path.join(DATA, "provinces.csv"), encoding="utf-8") as f:
        return {row["code"]: row["name_fa"] for row in csv.DictReader(f)}


@functools.lru_cache(maxsize=1)
def counties():
    """``{county_code: (name_fa, province_code)}``."""
    with open(os.path.join(DATA, "counties.csv"), encoding="utf-8") as f:
        return {row["code"]: (row["name_fa"], row["province_code"]) for row in csv.DictReader(f)}


def counties_of(province):
    return {code: name for code, (name, prov) in counties().items() if prov == province}


def county_in_province(county, province):
    entry = counties().get(str(county))
    return entry is not None and entry[1] == str(province)
