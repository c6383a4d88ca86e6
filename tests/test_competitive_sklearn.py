"""scikit-learn conformance of CompetitivePlasticityClassifier."""

from sklearn.utils.estimator_checks import check_estimator

from synaplast import CompetitivePlasticityClassifier


def test_check_estimator_default():
    check_estimator(CompetitivePlasticityClassifier(random_state=0))


def test_check_estimator_restricted_plasticity():
    check_estimator(
        CompetitivePlasticityClassifier(
            hidden_layer_sizes=(20,),
            update_fraction=0.5,
            selection="neuron",
            plastic_units=10,
            plastic_mode="error",
            caching=True,
            consolidation_threshold=0.05,
            random_state=0,
        )
    )
