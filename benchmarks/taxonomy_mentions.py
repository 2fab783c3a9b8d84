"""Skill-mention scanning cost on a 2,000-character note, against a plain `str.lower()`
pass over the same text as the baseline (printed as a ratio, never asserted)."""
from timing import best_of

from services.domain.taxonomy import find_skill_mentions

NOTE = ("Senior engineer, strong in Go and Rust, ran Apache Kafka and Flink on Kubernetes (EKS), "
        "Terraform, PostgreSQL, some machine learning with PyTorch; good communication, mentoring. ") * 12
NOTE = NOTE[:2000]


if __name__ == "__main__":
    baseline = best_of(200, lambda: NOTE.lower().split())
    mentions = best_of(200, lambda: find_skill_mentions(NOTE))
    print(f"lower+split baseline: {baseline * 1e6:8.1f} us")
    print(f"find_skill_mentions:  {mentions * 1e6:8.1f} us   ratio {mentions / baseline:6.1f}x")
