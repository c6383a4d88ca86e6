"""synaplast.claims: each claim's table is the analysis functions' measurements."""

import numpy as np
import pytest

from synaplast import analysis, claims
from synaplast.datasets import load_digits


@pytest.fixture(scope="module")
def data():
    X_tr, y_tr, X_te, y_te = load_digits()
    return claims.ClaimData("digits", X_tr, y_tr, X_te, y_te, random_state=0, n_attack=80)


def test_weight_claim_reports_each_models_fits(data):
    c = claims.lognormal_weights(data, plots=False)
    rule, bp = c.rows
    st = analysis.weight_statistics(data.rule)
    assert rule[:6] == [
        "rule",
        "w",
        st["n_synapses"],
        st["ks_lognormal"],
        st["ks_normal"],
        st["ks_exponential"],
    ]
    assert rule[6] == min(("lognormal", "normal", "exponential"), key=lambda k: st[f"ks_{k}"])
    fit = analysis.lognormal_fit(np.abs(data.bp.coefs_[0]))
    assert bp[3] == pytest.approx(fit["ks_lognormal"]) and bp[2] == data.bp.coefs_[0].size
    assert "| rule | w |" in c.markdown()


def test_robustness_claim_matches_the_attacks_and_clean_is_an_upper_bound(data):
    c = claims.robustness(data, plots=False)
    X, y = data.X_test[:80], data.y_test[:80]
    clean = c.rows[0]
    assert clean[2] == data.rule.score(X, y) and clean[3] == data.bp.score(X, y)
    pgd = [r for r in c.rows if r[0] == "PGD, 10 steps"]
    assert [r[1] for r in pgd] == list(claims.EPSILONS)
    assert pgd[1][2] == analysis.pgd_accuracy(data.rule, X, y, 0.1)
    assert pgd[1][3] == analysis.pgd_accuracy(data.bp, X, y, 0.1)
    for r in c.rows[1:]:
        assert r[4] == pytest.approx(r[2] - r[3])
    fgsm = {r[1]: r for r in c.rows if r[0] == "FGSM"}
    for r in pgd:  # ten projected steps find at least what one step finds, nearly always
        assert r[2] <= fgsm[r[1]][2] + 0.05 and r[3] <= fgsm[r[1]][3] + 0.05


def test_sections_are_listed_and_unknown_ones_refused(data):
    assert [n for n, _ in claims.CLAIM_SECTIONS][:2] == ["weights", "robustness"]
    with pytest.raises(ValueError, match="unknown claim sections"):
        claims.run(dataset="digits", sections=["weights", "bogus"], echo=lambda *_: None)


def test_transfer_rows_test_each_model_on_the_others_pgd_examples(data):
    c = claims.robustness(data, plots=False)
    X, y = data.X_test[:80], data.y_test[:80]
    rows = {r[1]: r for r in c.rows if r[0] == "PGD from the other model"}
    assert sorted(rows) == list(claims.EPSILONS)
    Xa = analysis.pgd_examples(data.bp, X, y, 0.1)
    assert np.abs(Xa - X).max() <= 0.1 + 1e-9 and Xa.min() >= 0 and Xa.max() <= 1
    assert rows[0.1][2] == np.mean(data.rule.predict(Xa.astype(np.float32)) == y)
    assert analysis.pgd_accuracy(data.bp, X, y, 0.1) == data.bp.score(Xa.astype(np.float32), y)


def test_continual_claim_tables_the_streams_and_draws_them(data):
    keep_tr, keep_te = data.y_train < 6, data.y_test < 6
    small = claims.ClaimData(
        "digits 0-5",
        data.X_train[keep_tr][:600],
        data.y_train[keep_tr][:600],
        data.X_test[keep_te],
        data.y_test[keep_te],
        rule_params={"max_synapses": 2000},
    )
    c = claims.continual_learning(small, plots=True)
    streams = {r[0] for r in c.rows}
    assert streams == {"first half then second half", "tasks of two classes", "joint (all classes)"}
    by = {(r[0], r[1]): r for r in c.rows}
    rule = by[("tasks of two classes", "rule (defaults)")]
    mlp = by[("tasks of two classes", "MLPClassifier(100)")]
    pct = lambda cell: float(cell.split()[0])  # noqa: E731
    # three tasks: the rule keeps the first and ends above the MLP streamed the same way
    assert pct(rule[3]) >= 0.9 * pct(rule[2]) and pct(rule[4]) > pct(mlp[4]) + 10
    assert set(c.figures) == {"claims_continual_stream"}
    assert len(c.figures["claims_continual_stream"].axes) == 2


def test_few_shot_table_has_a_row_per_variant_and_a_column_per_shot_count():
    from synaplast.claims_continual import few_shot_table

    rows = [
        {"shots": k, "variant": v, "mean": m, "ci95": c}
        for (k, v, m, c) in [(5, "a", 0.5, 0.01), (1, "a", 0.25, 0.02), (1, "b", 0.3, 0.0)]
        + [(5, "b", 0.75, 0.125)]
    ]
    header, table = few_shot_table(rows)
    assert header == ["variant", "1 / class", "5 / class"]
    assert table == [["a", "25.0 ± 2.0 %", "50.0 ± 1.0 %"], ["b", "30.0 ± 0.0 %", "75.0 ± 12.5 %"]]
