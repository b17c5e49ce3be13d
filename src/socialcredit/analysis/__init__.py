"""Measures of what a run did: inequality, mobility, segregation, errors, faults, disparate impact, behaviour change,
lending's delayed impact, the staff of sanctioned firms, couples and the two scorers;
audit trails of sampled persons, and comparisons of two runs.

Every function takes the :class:`~socialcredit.results.Results` of a run
(``socialcredit.run`` or ``socialcredit.read_run``) and returns a pandas
DataFrame or a dict of plain numbers. What each measures and how is in
docs/analysis.md.

>>> import socialcredit as sc
>>> from socialcredit import analysis
>>> res = sc.run("smalltown", persons=3000, days=90)
>>> analysis.disparate_impact(res, by="group")  # doctest: +SKIP
"""

from __future__ import annotations

from socialcredit.analysis.behaviour import (
    baseline_overrides,
    behaviour_change,
    rulebook_of,
)
from socialcredit.analysis.compare import (
    compare,
    design_differences,
    key_measures,
    paired_differences,
    same_design,
)
from socialcredit.analysis.couples import couple_correlation
from socialcredit.analysis.disparity import disparate_impact
from socialcredit.analysis.employment import employees_of_sanctioned
from socialcredit.analysis.errors import (
    blacklist_false_share,
    error_summary,
    false_records_by_channel,
    time_to_clear,
    wrongful_denials_by_service,
)
from socialcredit.analysis.faults import (
    coverage_concentration,
    fault_cascade,
    fault_cascades,
    fault_days,
)
from socialcredit.analysis.history import (
    audited_persons,
    person_history,
    plot_person,
    score_path,
)
from socialcredit.analysis.inequality import gini, gini_over_time
from socialcredit.analysis.lending import delayed_impact_curve, outcome_regions, parity_case, repay_probability
from socialcredit.analysis.mobility import (
    bottom_tier_spells,
    kaplan_meier_median,
    mobility_summary,
    tier_paths,
    transition_matrix,
)
from socialcredit.analysis.scale import scale_factor, scaled, scaled_counts
from socialcredit.analysis.scorers import commercial_by_listing
from socialcredit.analysis.segregation import assortativity, network_series

__all__ = [
    "assortativity",
    "audited_persons",
    "compare",
    "coverage_concentration",
    "design_differences",
    "key_measures",
    "paired_differences",
    "person_history",
    "plot_person",
    "same_design",
    "score_path",
    "baseline_overrides",
    "behaviour_change",
    "blacklist_false_share",
    "bottom_tier_spells",
    "disparate_impact",
    "error_summary",
    "false_records_by_channel",
    "fault_cascade",
    "fault_cascades",
    "fault_days",
    "gini",
    "gini_over_time",
    "kaplan_meier_median",
    "mobility_summary",
    "network_series",
    "rulebook_of",
    "scale_factor",
    "scaled",
    "scaled_counts",
    "tier_paths",
    "time_to_clear",
    "transition_matrix",
    "wrongful_denials_by_service",
    "commercial_by_listing",
    "couple_correlation",
    "delayed_impact_curve",
    "employees_of_sanctioned",
    "outcome_regions",
    "parity_case",
    "repay_probability",
]
