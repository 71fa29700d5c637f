"""Capacity: who gets what they chose. Care homes admit first: public homes from the waiting list by
priority (destitute, then poor and disabled, then the more dependent, then first come first served),
private homes those who chose them, in random order; a home takes a resident only into a free bed of the
type needed and only if its free staff can look after them. Public-home applicants not admitted stay on
the waiting list. Whoever is not admitted chooses again among the arrangements at home (the logit's odds
among the rest). Family beds and day-care places go to the more dependent first (then at random); whoever
is turned away chooses again without that option.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.data.parameters import Parameters
from sim.model import rules
from sim.model.choice import HOME_OPTIONS, O_PUBLIC, OPTION_SETTING, sample_logit
from sim.model.elders import INSTITUTION, Elders
from sim.model.homes import PUBLIC, Homes, admit, occupancy, resident_load


@dataclass
class Admissions:
    """Who entered a care home this year (rows), who entered a public one and when they had joined its
    waiting list, and who is left waiting for one (rows)."""

    rows: np.ndarray
    public: np.ndarray
    public_joined: np.ndarray
    waiting: np.ndarray


def admit_to_homes(
    elders: Elders,
    choosers: np.ndarray,
    choice: np.ndarray,
    bed: np.ndarray,
    year: int,
    homes: Homes,
    residents: np.ndarray,
    staff: np.ndarray,
    p: Parameters,
    rng: np.random.Generator,
) -> tuple[np.ndarray, Admissions]:
    """Admit those who chose a home (positions in ``choosers``), needing ``bed``, to homes where
    ``residents`` (rows) live; update the waiting list. Returns whether each chooser was admitted, and the
    admissions."""
    occupied, load = occupancy(elders, residents, len(homes), p)
    free_beds = homes.beds() - occupied if len(homes) else np.zeros((0, 3), dtype=np.int64)
    free_staff = staff - load
    public_homes = homes.ownership() == PUBLIC if len(homes) else np.zeros(0, dtype=bool)
    joined = np.where(elders.waiting_since[choosers] > 0, elders.waiting_since[choosers], year)
    placed = np.zeros(choosers.size, dtype=bool)
    admitted = []
    for option in HOME_OPTIONS:
        queue = np.flatnonzero(choice == option)
        rows = choosers[queue]
        if option == O_PUBLIC:
            priority = rules.public_priority(elders.income[rows], elders.level[rows])
            order = np.lexsort((rows, joined[queue], -elders.level[rows], priority))  # rows keep the order of entry
            homes_in_turn = rng.permutation(np.flatnonzero(public_homes))
        else:
            order = rng.permutation(queue.size)
            homes_in_turn = rng.permutation(np.flatnonzero(~public_homes))
        got = _place(elders, choosers, queue[order], bed, homes, homes_in_turn, free_beds, free_staff, p)
        placed[got] = True
        admitted.append(choosers[got])
        if option == O_PUBLIC:
            public, public_joined = choosers[got], joined[got]
    waiting = np.flatnonzero((choice == O_PUBLIC) & ~placed)
    elders.waiting_since[choosers] = 0
    elders.waiting_since[choosers[waiting]] = joined[waiting]
    return placed, Admissions(np.concatenate(admitted), public, public_joined, choosers[waiting])


def _place(
    elders: Elders,
    choosers: np.ndarray,
    candidates: np.ndarray,
    bed: np.ndarray,
    homes: Homes,
    homes_in_turn: np.ndarray,
    free_beds: np.ndarray,
    free_staff: np.ndarray,
    p: Parameters,
) -> np.ndarray:
    """Admit ordered candidates (positions in ``choosers``) to ``homes_in_turn`` (see ``homes.admit``).
    Returns the admitted positions."""
    if candidates.size == 0 or homes_in_turn.size == 0:
        return np.empty(0, dtype=np.int64)
    rows = choosers[candidates]
    home, bed_type = admit(homes_in_turn, bed[candidates], resident_load(elders.level[rows], p), free_beds, free_staff)
    got = home >= 0
    elders.setting[rows[got]] = INSTITUTION
    elders.home[rows[got]] = home[got]
    elders.bed[rows[got]] = bed_type[got]
    return candidates[got]


def settle_at_home(
    elders: Elders,
    choosers: np.ndarray,
    choice: np.ndarray,
    utility: np.ndarray,
    placed: np.ndarray,
    places: dict[int, int],
    rng: np.random.Generator,
) -> None:
    """Those not admitted to a home choose again among the arrangements at home; family beds and
    day-care places are rationed until each holds what it has; everyone not in a home gets the setting
    chosen. ``places``: family beds and day-care places free for the choosers."""
    utility[:, list(HOME_OPTIONS)] = -np.inf
    again = np.flatnonzero(~placed & np.isin(choice, HOME_OPTIONS))
    choice[again] = sample_logit(utility[again], rng)
    ration(elders, choosers, choice, utility, ~placed, places, rng)
    at_home = choosers[~placed]
    elders.setting[at_home] = OPTION_SETTING[choice[~placed]]
    elders.home[at_home] = -1
    elders.bed[at_home] = -1


def ration(
    elders: Elders,
    choosers: np.ndarray,
    choice: np.ndarray,
    utility: np.ndarray,
    eligible: np.ndarray,
    places: dict[int, int],
    rng: np.random.Generator,
) -> None:
    """Ration each option with limited places among the ``eligible`` choosers who chose it: the more
    dependent first, then at random. An option once full is closed to everyone still choosing; whoever is
    turned away chooses again among the options still open. Repeats until no option has more takers than
    places (each round fills at least one option for good, so it ends)."""
    closed: list[int] = []
    while True:
        over = [o for o in places if int((eligible & (choice == o)).sum()) > places[o]]
        if not over:
            return
        refused = []
        for option in over:
            takers = np.flatnonzero(eligible & (choice == option))
            refused.append(takers[by_priority(elders.level[choosers[takers]], rng)][places[option] :])
            closed.append(option)
        again = np.concatenate(refused)
        utility[np.ix_(again, closed)] = -np.inf
        choice[again] = sample_logit(utility[again], rng)


def by_priority(level: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The order in which limited places at home go: the more dependent first, then at random."""
    # one sort on level and a uniform draw below one: the order of a sort on (level, draw), faster
    return np.argsort(rng.random(level.size) - level, kind="stable")


def keep_within(elders: Elders, keepers: np.ndarray, setting: int, places: int, rng: np.random.Generator) -> np.ndarray:
    """Those of ``keepers`` (rows) who must give up their ``setting`` because it now has fewer places
    than they hold (a lever that shrinks): the last by priority."""
    holding = keepers[elders.setting[keepers] == setting]
    if holding.size <= places:
        return np.empty(0, dtype=np.int64)
    return holding[by_priority(elders.level[holding], rng)][max(places, 0) :]
