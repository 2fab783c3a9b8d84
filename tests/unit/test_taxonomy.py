import json
from collections import defaultdict

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.domain import taxonomy
from services.domain.taxonomy import (
    SkillMention,
    canonical_skills,
    find_skill_mentions,
    is_known_skill,
    normalize_skill,
    skill_label,
)

SKILLS = json.loads(taxonomy.SKILLS_FILE.read_text(encoding="utf-8"))
CATEGORIES = {
    "language", "framework", "data", "ml", "infrastructure", "database", "security", "mobile", "product",
    "design", "sales", "marketing", "finance", "hr", "operations", "project_management", "engineering",
    "leadership",
}
ALL_SURFACES = sorted({s for skill in SKILLS for s in (skill["name"], skill["key"], *skill["aliases"])})

NORMALISED = [
    # languages and their spellings
    ("Python", "python"), ("python", "python"), ("PYTHON", "python"), ("  Python  ", "python"),
    ("Python 3", "python"), ("Python3", "python"), ("python 3.11", "python"), ("Python 2.7", "python"),
    ("python3.12", "python"), ("python_3", "python"), ("Python-3", "python"), ("py3", "python"),
    ("JavaScript", "javascript"), ("JS", "javascript"), ("js", "javascript"), ("Javascript", "javascript"),
    ("ES6", "javascript"), ("ES2015", "javascript"), ("ECMAScript", "javascript"), ("Java Script", "javascript"),
    ("TypeScript", "typescript"), ("TS", "typescript"), ("typescript 5", "typescript"),
    ("Java", "java"), ("Java 17", "java"), ("Java8", "java"), ("Java 8+", "java"),
    ("Go", "go"), ("golang", "go"), ("GoLang", "go"), ("Go 1.21", "go"), ("go-lang", "go"),
    ("Rust", "rust"), ("C", "c"), ("C11", "c"), ("C4", "c4"),
    ("C++", "c++"), ("c++", "c++"), ("cpp", "c++"), ("CPP", "c++"), ("C++17", "c++"), ("C++ 20", "c++"),
    ("C#", "c#"), ("c#", "c#"), ("csharp", "c#"), ("C Sharp", "c#"), ("c-sharp", "c#"), ("C# 10", "c#"),
    ("F#", "f#"), ("fsharp", "f#"), ("Objective-C", "objective-c"), ("objective c", "objective-c"),
    ("ObjC", "objective-c"), ("R", "r"), ("R language", "r"), ("HTML5", "html"), ("CSS3", "css"), ("SCSS", "sass"),
    # frameworks
    ("React", "react"), ("React.js", "react"), ("ReactJS", "react"), ("react js", "react"), ("React 18", "react"),
    ("react@18", "react"), ("React Native", "react native"), ("react-native", "react native"),
    ("Vue", "vue.js"), ("Vue.js", "vue.js"), ("VueJS", "vue.js"), ("vue 3", "vue.js"),
    ("Next.js", "next.js"), ("NextJS", "next.js"), ("Node", "node.js"), ("NodeJS", "node.js"),
    ("Node.js", "node.js"), ("node js", "node.js"), ("Node v18", "node.js"),
    ("Angular", "angular"), ("Angular 2+", "angular"), ("AngularJS", "angular"), ("Angular 17", "angular"),
    (".NET", ".net"), (".net core", ".net"), ("dotnet", ".net"), (".NET 6", ".net"), ("ASP.NET Core", "asp.net"),
    ("Spring Boot", "spring boot"), ("springboot", "spring boot"), ("Spring Boot 3", "spring boot"),
    ("Ruby on Rails", "ruby on rails"), ("RoR", "ruby on rails"), ("Rails 7", "ruby on rails"),
    ("Express.js", "express"), ("Django REST Framework", "django rest framework"), ("DRF", "django rest framework"),
    # data and ML
    ("scikit-learn", "scikit-learn"), ("sklearn", "scikit-learn"), ("Scikit Learn", "scikit-learn"),
    ("PySpark", "spark"), ("Apache Spark", "spark"), ("Spark SQL", "spark"),
    ("Apache Kafka", "kafka"), ("kafka", "kafka"), ("Kafka Streams", "kafka streams"),
    ("Apache Flink", "flink"), ("PyFlink", "flink"), ("dbt", "dbt"), ("DBT", "dbt"), ("Apache Airflow", "airflow"),
    ("ML", "machine learning"), ("Machine Learning", "machine learning"), ("machine-learning", "machine learning"),
    ("NLP", "nlp"), ("Natural Language Processing", "nlp"), ("LLM", "llms"), ("LLMs", "llms"),
    ("large language models", "llms"), ("GenAI", "generative ai"), ("AI", "artificial intelligence"),
    ("PyTorch", "pytorch"), ("TensorFlow 2", "tensorflow"), ("A/B testing", "a/b testing"), ("AB Testing", "a/b testing"),
    ("ETL/ELT", "etl"), ("Power BI", "power bi"), ("PowerBI", "power bi"),
    # infrastructure and databases
    ("Kubernetes", "kubernetes"), ("k8s", "kubernetes"), ("K8S", "kubernetes"), ("kube", "kubernetes"),
    ("Kubernetes 1.28", "kubernetes"), ("(Kubernetes)", "kubernetes"), ("AWS", "aws"),
    ("Amazon Web Services", "aws"), ("GCP", "google cloud"), ("Google Cloud Platform", "google cloud"),
    ("Azure", "azure"), ("Microsoft Azure", "azure"), ("S3", "amazon s3"), ("EC2", "amazon ec2"),
    ("Terraform", "terraform"), ("Terraform 1.x", "terraform"), ("CI/CD", "ci/cd"), ("CICD", "ci/cd"),
    ("ci-cd", "ci/cd"), ("GitHub Actions", "github actions"), ("REST", "rest apis"), ("RESTful APIs", "rest apis"),
    ("restful", "rest apis"), ("GraphQL", "graphql"), ("Postgres", "postgresql"), ("PostgreSQL", "postgresql"),
    ("postgresql", "postgresql"), ("psql", "postgresql"), ("Postgres 15", "postgresql"), ("Mongo", "mongodb"),
    ("MS SQL", "microsoft sql server"), ("SQL Server 2019", "microsoft sql server"), ("T-SQL", "t-sql"),
    ("TSQL", "t-sql"), ("PL/SQL", "pl/sql"), ("plsql", "pl/sql"),
    # business, design, product
    ("Salesforce", "salesforce"), ("SFDC", "salesforce"), ("SEO", "seo"),
    ("search engine optimisation", "seo"), ("Financial Modeling", "financial modeling"),
    ("financial modelling", "financial modeling"), ("FP&A", "fp&a"), ("M&A", "m&a"),
    ("mergers and acquisitions", "m&a"), ("Figma", "figma"), ("User Research", "user research"),
    ("UX Research", "user research"), ("UI/UX", "ux design"), ("Agile", "agile"), ("Scrum", "scrum"),
    ("OKRs", "okrs"), ("OKR", "okrs"), ("Excel", "excel"), ("MS Excel", "excel"), ("Go-to-Market", "go-to-market"),
    ("GTM", "go-to-market"), ("PRINCE2", "prince2"), ("SAFe", "safe"), ("L&D", "learning & development"),
    ("Compensation and Benefits", "compensation & benefits"), ("HubSpot", "hubspot"),
    # unknown skills are kept, folded
    ("  Foo-Bar Toolkit!! ", "foo bar toolkit"), ("Quantum Basket Weaving", "quantum basket weaving"),
    ("Foo 2", "foo 2"), ("web3", "blockchain"), ("MA", "ma"), ("Some_Tool.v2", "some tool v2"),
    ("Café Tooling", "café tooling"),
]


def test_table_is_big_enough():
    assert len(NORMALISED) >= 110


@pytest.mark.parametrize("raw,expected", NORMALISED)
def test_normalize_skill(raw, expected):
    assert normalize_skill(raw) == expected


def test_every_surface_normalises_to_its_own_skill():
    for skill in SKILLS:
        for surface in (skill["name"], skill["key"], *skill["aliases"]):
            assert normalize_skill(surface) == skill["key"], surface


def test_no_alias_maps_to_two_skills():
    owners = defaultdict(set)
    for skill in SKILLS:
        for surface in (skill["name"], skill["key"], *skill["aliases"]):
            owners[" ".join(surface.lower().split())].add(skill["key"])
            owners[normalize_skill(surface)].add(skill["key"])
    clashes = {surface: keys for surface, keys in owners.items() if len(keys) > 1}
    assert not clashes


def test_data_file_shape():
    assert len(SKILLS) >= 400
    keys = [skill["key"] for skill in SKILLS]
    assert len(keys) == len(set(keys))
    for skill in SKILLS:
        assert set(skill) == {"name", "key", "category", "aliases"}
        assert skill["key"] == skill["name"].lower()
        assert skill["category"] in CATEGORIES
        assert isinstance(skill["aliases"], list)
    assert {skill["category"] for skill in SKILLS} == CATEGORIES


def test_labels_and_known():
    assert skill_label("kubernetes") == "Kubernetes"
    assert skill_label("go") == "Go"
    assert skill_label("c#") == "C#"
    assert skill_label("postgresql") == "PostgreSQL"
    assert skill_label("foo bar toolkit") == "foo bar toolkit"
    assert is_known_skill("kubernetes") and is_known_skill("c++") and is_known_skill("node.js")
    assert not is_known_skill("k8s")  # an alias, not a key
    assert not is_known_skill("foo bar toolkit")
    assert taxonomy.skill_category("figma") == "design"
    assert taxonomy.skill_category("nope") is None


def test_canonical_skills_dedupes_in_order():
    raws = ["k8s", "Python 3", "Kubernetes", "python", "  ", "Foo-Bar", "foo bar", "!!!", "Go"]
    assert canonical_skills(raws) == ["kubernetes", "python", "foo bar", "go"]
    assert canonical_skills(iter([])) == []


def keys(text):
    return [m.key for m in find_skill_mentions(text)]


def test_mentions_word_boundaries():
    assert keys("strong in Go and Rust") == ["go", "rust"]
    assert keys("Good going, gopher, Golfing") == []
    assert keys("Pythonic javascripty typescripts") == []
    assert keys("wrote C, C++ and C# daily; also C/C++") == ["c", "c++", "c#", "c", "c++"]


def test_mentions_longest_match_first():
    assert keys("Apache Kafka and Kafka Streams") == ["kafka", "kafka streams"]
    assert keys("machine learning and deep learning") == ["machine learning", "deep learning"]
    assert keys("Spring Boot services on ASP.NET and .NET") == ["spring boot", "asp.net", ".net"]
    assert keys("React Native, React.js and Node.js") == ["react native", "react", "node.js"]
    assert keys("machine-learning, Machine\nLearning") == ["machine learning", "machine learning"]


def test_mentions_capitalisation_rule_for_ambiguous_words():
    assert keys("we go on; rust never sleeps; in spring we excel; react fast; node count") == []
    assert keys("Go, Rust, Swift, Spring, Excel, React, Node and R") == [
        "go", "rust", "swift", "spring", "excel", "react", "node.js", "r"]
    assert keys("GO and RUST") == ["go", "rust"]
    assert keys("the rest of it was safe; uses SAP, REST and SAFe") == ["sap", "rest apis", "safe"]
    assert keys("R&D, C-level, plan C4 and R2") == []
    assert keys("kubernetes, postgres, figma") == ["kubernetes", "postgresql", "figma"]


def test_mentions_spans_and_versions():
    text = "Uses Python3, k8s and C++17 with Postgres."
    mentions = find_skill_mentions(text)
    assert mentions == [
        SkillMention("python", "Python3", 5, 12),
        SkillMention("kubernetes", "k8s", 14, 17),
        SkillMention("c++", "C++17", 22, 27),
        SkillMention("postgresql", "Postgres", 33, 41),
    ]
    for mention in mentions:
        assert text[mention.start:mention.end] == mention.surface
    starts = [m.start for m in find_skill_mentions("Kafka " * 50)]
    assert starts == sorted(starts) and len(starts) == 50


def test_mention_is_frozen():
    mention = find_skill_mentions("Go")[0]
    with pytest.raises(AttributeError):
        mention.key = "rust"


@settings(max_examples=400)
@given(st.text())
def test_normalize_is_idempotent(raw):
    once = normalize_skill(raw)
    assert normalize_skill(once) == once


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_normalize_never_empty_for_alphanumeric_input(raw):
    assume(any(ch.isalnum() for ch in raw))
    assert normalize_skill(raw)


@settings(max_examples=300)
@given(st.sampled_from(ALL_SURFACES), st.data())
def test_normalize_is_case_insensitive_for_known_surfaces(surface, data):
    flips = data.draw(st.lists(st.booleans(), min_size=len(surface), max_size=len(surface)))
    mixed = "".join(ch.upper() if flip else ch.lower() for ch, flip in zip(surface, flips))
    assert normalize_skill(mixed) == normalize_skill(surface)


@settings(max_examples=300)
@given(st.one_of(st.text(), st.text(alphabet="+#.-_/ &cC3 ", max_size=12)))
def test_never_raises(raw):
    assert isinstance(normalize_skill(raw), str)
    assert isinstance(find_skill_mentions(raw), list)
    assert isinstance(canonical_skills([raw, raw]), list)
