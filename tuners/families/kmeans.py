"""k-means for unlabelled data (seed 002: 'Unsupervised? K-means Clustering'); the number of
clusters is chosen by silhouette on held-out rows."""

from __future__ import annotations

from sklearn.cluster import KMeans

from advisor.types import Family
from tuners.families.base import SEED_002, FamilyDef, pipeline
from tuners.space import Choice, IntRange, Param, Space

MAX_CLUSTERS = 20


def space(problem) -> Space:
    most = max(2, min(MAX_CLUSTERS, len(problem.x_train) // 5))
    return Space(
        {
            "n_clusters": Param(IntRange(2, most), f"how many clusters, judged by silhouette ({SEED_002})"),
            "init": Param(Choice(("k-means++", "random")), "seeding of the centroids"),
        },
        start={"n_clusters": min(3, most), "init": "k-means++"},
    )


def build(config, problem):
    model = KMeans(n_clusters=config["n_clusters"], init=config["init"], n_init=4, random_state=problem.seed)
    return pipeline(problem, model)


KMEANS = FamilyDef(
    Family.KMEANS, space, build, defaults=lambda problem: {"n_clusters": 8, "init": "k-means++"}, iterative=False, model_format="skops"
)
