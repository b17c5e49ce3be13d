"""The synthetic society: persons, companies and the friendship network."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from socialcredit.errors import Location, RulebookError
from socialcredit.population import generators as nw
from socialcredit.population.companies import Companies, build_companies
from socialcredit.population.edgelist import load_edgelist
from socialcredit.population.ordering import locality_order
from socialcredit.population.persons import Persons, build_persons
from socialcredit.rulebook.feasibility import region_blocks
from socialcredit.rulebook.schema import Rulebook


@dataclass
class Population:
    persons: Persons
    companies: Companies | None
    network: "Network"  # noqa: F821 - population.network.Network

    def nbytes(self) -> int:
        return self.persons.nbytes() + self.network.nbytes()


def build_network(rb: Rulebook, region_offsets: np.ndarray, seed: int, base_dir: str | None = None):
    """Build (or load) the friendship network and renumber it for locality.

    Small-world and block-model networks are built per region block; scale-free
    and loaded networks are ordered as one block, so that regions become
    contiguous runs of the ordering (network neighbourhoods).
    """
    try:
        return _build_network(rb, region_offsets, seed, base_dir)
    except ValueError as exc:  # generator parameters that cannot produce a network
        # load_rulebook records where the network section is (see network_problem); else name the key only
        where = getattr(rb, "_network_location", None)
        location = Location(where.file, where.line, where.column, where.key) if where else Location(key="population.network")
        raise RulebookError(str(exc), location=location) from None


def _build_network(rb: Rulebook, region_offsets: np.ndarray, seed: int, base_dir: str | None):
    spec = rb.population.network
    n = int(region_offsets[-1])
    whole = np.array([0, n], dtype=np.int64)
    if spec.generator == "small_world":
        net = nw.small_world(region_offsets, int(round(spec.mean_degree)), spec.rewiring, seed)
        blocks = region_offsets
    elif spec.generator == "block":
        net = nw.block_model(region_offsets, spec.mean_degree, spec.within_share, seed)
        blocks = region_offsets
    elif spec.generator == "scale_free":
        net = nw.scale_free(n, spec.mean_degree, spec.exponent, seed)
        blocks = whole
    else:
        path = spec.path or ""
        if base_dir and not os.path.isabs(path):
            path = os.path.join(base_dir, path)
        net = load_edgelist(path, n)
        blocks = whole
    # The small-world ring lattice is already local (a neighbour pass on it is as fast as on a
    # BFS order), so it is kept as built: reordering would cost time and a second copy of the network.
    if spec.locality and spec.generator != "small_world":
        perm = locality_order(net, blocks)
        net = net.permuted(perm)
    return net


def build_population(rb: Rulebook, base_dir: str | None = None) -> Population:
    """Draw the whole synthetic society for a rulebook (deterministic in the seed)."""
    seed = rb.simulation.seed
    pop = rb.population
    offsets = region_blocks(pop.persons, [r.share for r in pop.regions])
    network = build_network(rb, offsets, seed, base_dir)
    persons = build_persons(
        seed,
        offsets,
        [g.share for g in pop.groups],
        [r.income.median for r in pop.regions],
        [r.income.sigma for r in pop.regions],
        pop.partners,
        [b.heterogeneity for b in rb.behaviours],
        None if pop.children is None else (pop.children.share, pop.children.mean),
    )
    companies = None
    if pop.companies.count > 0:
        companies, employer = build_companies(
            seed, offsets, [r.share for r in pop.regions], pop.companies.count, pop.companies.employment, rb.score.initial
        )
        persons.employer = employer
    return Population(persons=persons, companies=companies, network=network)
