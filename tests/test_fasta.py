"""read_fasta and load_pfr2."""

import io

import numpy as np
import pandas as pd
import pytest

from vgestimators.datasets import load_pfr2, read_fasta
from vgestimators.genetics import SGTTransformer

FASTA = """\
;comment line
>AB263435 Candeina nitida 18S
aagggcaccacaagaacgcg
TGGAGCATGT

>MK499771\tGlobigerina bulloides
ggtatt ATAATT
>x3
n
"""


def test_read_fasta_records_multiline_blank_lines_and_case():
    df = read_fasta(io.StringIO(FASTA))
    assert df.columns.tolist() == ["id", "description", "sequence", "species"]
    assert df["species"].tolist() == [
        "Candeina nitida 18S",
        "Globigerina bulloides",
        None,
    ]
    assert df["id"].tolist() == ["AB263435", "MK499771", "x3"]
    assert df.loc[1, "description"] == "Globigerina bulloides"
    assert df.loc[0, "description"] == "Candeina nitida 18S"
    assert df.loc[0, "sequence"] == "aagggcaccacaagaacgcgTGGAGCATGT"
    assert df.loc[1, "sequence"] == "ggtattATAATT"
    assert df.loc[2, "description"] == "" and df.loc[2, "sequence"] == "n"


def test_read_fasta_windows_line_ends_path_and_binary(tmp_path):
    path = tmp_path / "win.fasta"
    path.write_bytes(FASTA.replace("\n", "\r\n").encode())
    from_path = read_fasta(path)
    from_str = read_fasta(str(path))
    with open(path, "rb") as handle:
        from_binary = read_fasta(handle)
    expected = read_fasta(io.StringIO(FASTA))
    for df in (from_path, from_str, from_binary):
        pd.testing.assert_frame_equal(df, expected)
    assert not any("\r" in s for s in from_path["sequence"])


@pytest.mark.parametrize(
    "text, message",
    [
        ("acgt\n>x\nacgt\n", r"line 1: sequence text before the first '>'"),
        (">a\nacgt\n>\nacgt\n", r"line 3: header '>' without an id"),
        (">a\nacgt\n\n>b\n>c\nac\n", r"line 4: record without sequence"),
        (">a\nacgt\n>b\n", r"line 3: record without sequence"),
        ("\n\n", r"no FASTA record"),
    ],
)
def test_read_fasta_malformed_raises_with_line_number(text, message):
    with pytest.raises(ValueError, match=message):
        read_fasta(io.StringIO(text))


PIPES = """\
>SEQ1|Globigerina_bulloides|18S
ACGT
>SEQ2|Orbulina_universa|18S rRNA
ACGG
"""


@pytest.mark.parametrize(
    "text, rule, expected",
    [
        (FASTA, "binomial", ["Candeina nitida", "Globigerina bulloides", None]),
        (FASTA, "id", ["AB263435", "MK499771", "x3"]),
        (PIPES, 1, ["Globigerina_bulloides", "Orbulina_universa"]),
        (PIPES, -1, ["18S", "18S rRNA"]),
        (PIPES, lambda header: header[:4], ["SEQ1", "SEQ2"]),
        (PIPES, "description", [None, "rRNA"]),
    ],
)
def test_read_fasta_species_rules(text, rule, expected):
    assert read_fasta(io.StringIO(text), species=rule)["species"].tolist() == expected


def test_read_fasta_species_rule_errors():
    with pytest.raises(
        ValueError,
        match=r"line 1: header 'SEQ1\|Globigerina_bulloides"
        r"\|18S' has 3 field\(s\) separated by '\|'; species=3",
    ):
        read_fasta(io.StringIO(PIPES), species=3)
    with pytest.raises(ValueError, match="species must be one of"):
        read_fasta(io.StringIO(PIPES), species="genus")
    assert "species" not in read_fasta(io.StringIO(PIPES), species=None)


def test_fasta_sequences_feed_the_transformer():
    df = read_fasta(io.StringIO(FASTA))
    X = SGTTransformer().fit_transform(df["sequence"])
    assert X.shape == (3, 16)
    assert not X[2].any()  # "n": no known symbol
    lower = SGTTransformer().fit_transform([df.loc[0, "sequence"].upper()])
    np.testing.assert_array_equal(X[0], lower[0])


CSV = """\
Accession number,FullSequence,Genus,species,Class,EndlessForams_Class,Clade
MK1,acgtacgtta,Globigerina ,bulloides,22,3,Spinose
MK2,ttgacgatcg,Globigerinoides,ruber-albus,29,11,Spinose
MK3,ccgatcgatt,Globigerinoides,ruber-ruber,29,11,Spinose
"""


def test_load_pfr2_tidy_columns():
    df = load_pfr2(io.StringIO(CSV))
    assert df.columns.tolist()[:4] == ["sequence", "genus", "species", "label"]
    assert df["label"].tolist() == [
        "Globigerina bulloides",
        "Globigerinoides ruber-albus",
        "Globigerinoides ruber-ruber",
    ]
    assert df["genus"][0] == "Globigerina"  # stripped
    assert df["endless_forams_class"].tolist() == [3, 11, 11]
    assert df["accession"].tolist() == ["MK1", "MK2", "MK3"]
    assert df["pfr2_class"].tolist() == [22, 29, 29]
    assert df["clade"][0] == "Spinose"


def test_load_pfr2_errors():
    with pytest.raises(ValueError, match=r"no 'genus' column .* columns are"):
        load_pfr2(io.StringIO("FullSequence,species\nacgt,x\n"))
    broken = CSV.replace("ttgacgatcg", "")
    with pytest.raises(ValueError, match=r"line 3 \(row 1\): missing 'FullSequence'"):
        load_pfr2(io.StringIO(broken))


def test_load_real_pfr2(pfr2_path):
    df = load_pfr2(pfr2_path)
    assert len(df) == 804
    assert df["endless_forams_class"].nunique() == 32
    assert df["label"].nunique() == 33  # ruber-albus and ruber-ruber share class 11
    assert df["sequence"].str.len().between(862, 3501).all()
    assert not df["genus"].str.endswith(" ").any()
    counts = df["label"].value_counts()
    assert counts["Pulleniatina obliquiloculata"] == 249
