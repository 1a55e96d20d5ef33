"""The normaliser on tiny grids: header search, row kinds (totals, sums, sections), every finding.

These are the oracle's tests: the column-wise reader is compared to this per-cell path, so each
rule here was found missing by a mutation run of ``etl/normalise.py`` (issue 13).
"""
import datetime as dt

import pytest

from etl.findings import Finding
from etl.normalise import find_header, find_header_lines, map_headers, map_two_line_headers, read_project_sheet, read_project_sheets
from etl.read import RawSheet

pytestmark = pytest.mark.unit

HEADER = ["Code projet", "Intitulé du projet", "Coût global (DH)", "Contribution INDH",
          "Contribution porteur", "Autres partenaires"]


def project(code, title="Unité de couture", total=100_000.0, indh=60_000.0, promoter=30_000.0, partner=10_000.0):
    return [code, title, total, indh, promoter, partner]


def sheet(rows, name="Projets", **kwargs):
    return RawSheet(name, rows, file_format="xlsx", **kwargs)


def rules(findings):
    return [(f.rule_id, f.excel_row, f.column_header, f.value) for f in findings]


def test_a_hidden_sheet_before_the_project_sheet_is_named_and_the_next_is_read():
    raw = [RawSheet("Ancien", [], hidden=True), sheet([HEADER, project("A-1")]), sheet([["note"]], name="Notes")]
    sheets, findings = read_project_sheets(raw, "MA-TAO")
    assert [s.name for s in sheets] == ["Projets"]
    assert rules(findings) == [("SHEET_HIDDEN", None, None, "Ancien"), ("SHEET_SKIPPED", None, None, "Notes"),
                               ("SHEET_USED", None, None, "Projets")]
    assert findings[2].params == {"header_row": 1, "rows": 1}
    assert findings[0].sheet == "Ancien"


def test_one_sheet_says_nothing_about_sheets_and_an_empty_sheet_is_not_skipped():
    sheets, findings = read_project_sheets([sheet([HEADER, project("A-1")])], "MA-TAO")
    assert findings == [] and len(sheets[0].rows) == 1
    _, findings = read_project_sheets([sheet([HEADER, project("A-1")]), sheet([[None, ""]], name="Vide")],
                                      "MA-TAO")
    assert [f.rule_id for f in findings] == ["SHEET_USED"]


def test_an_unlabelled_sums_row_is_skipped_and_restarts_the_subtotal():
    rows = [HEADER, project("A-1", total=100.0), project("A-2", total=50.0),
            [None, None, 150.0, 90.0, None, None],           # sum of the rows above: not a project
            project("A-3", total=20.0),
            [None, None, 20.0, None, None, None],            # subtotal since the last sums row
            [None, None, 170.0, None, None, None],           # grand total of every row
            [None, None, 999.0, None, None, None]]           # not a sum: a row without code
    result = read_project_sheet(sheet(rows), "MA-TAO")
    assert [r["project_code"] for r in result.rows] == ["A-1", "A-2", "A-3", None]
    assert result.rows[-1]["excel_row"] == 8
    assert result.skipped_rows == 3
    assert result.subtotal_from == 3


def test_a_sums_row_needs_an_amount_and_no_title():
    rows = [HEADER, project("A-1", total=100.0), [None, "Reste", 100.0, None, None, None],
            [None, None, "abc", None, None, None], [None, None, 0.0, 1.0, None, None]]
    result = read_project_sheet(sheet(rows), "MA-TAO")
    assert [(r["project_code"], r["title"]) for r in result.rows] == [("A-1", "Unité de couture"), (None, "Reste"),
                                                                      (None, None)]
    assert result.skipped_rows == 1   # the "abc" row has no amount: a note, not a project


@pytest.mark.parametrize("label", ["Total", "TOTAL GENERAL", "Sous-total", "S/Total", "Total province Taounate",
                                   "المجموع", "المجموع العام", "  Totaux ", "Cumul", "Grand total", "Ensemble"])
def test_totals_rows_are_skipped(label):
    rows = [HEADER, project("A-1"), [None, label, 100_000.0, 60_000.0, None, None], project("A-2")]
    result = read_project_sheet(sheet(rows), "MA-TAO")
    assert [r["project_code"] for r in result.rows] == ["A-1", "A-2"]
    assert result.skipped_rows == 1 and result.subtotal_from == 1


def test_a_totals_word_in_the_code_column_is_a_totals_row_but_a_title_starting_with_it_is_not():
    rows = [HEADER, project("A-1"), ["Total", None, 100_000.0, None, None, None],
            project("A-2", title="Totalement nouveau projet"), project("T-3", title="Total"),
            project("Total-4", title="Total")]
    result = read_project_sheet(sheet(rows), "MA-TAO")
    # A code that is itself a totals label ("Total-4" folds to "total 4") on a totals row is skipped.
    assert [r["project_code"] for r in result.rows] == ["A-1", "A-2", "T-3"]


def test_section_rows_and_notes_are_not_projects():
    rows = [HEADER, ["Commune de Tissa"], project("A-1"), [None, "Observation : à compléter", None, None, None, None],
            ["", None, None, None, None, None], [None, 12.0, None, None, None, None]]
    result = read_project_sheet(sheet(rows), "MA-TAO")
    assert [r["project_code"] for r in result.rows] == ["A-1"]
    assert result.skipped_rows == 4


def test_a_lone_code_number_is_a_project_row_not_a_section():
    result = read_project_sheet(sheet([HEADER, [1234.0, None, None, None, None, None]]), "MA-TAO")
    assert [r["project_code"] for r in result.rows] == ["1234"]
    assert rules(result.findings) == [("W_TITLE_MISSING", 2, "Intitulé du projet", None),
                                      ("E_AMOUNT_MISSING", 2, "Coût global (DH)", None),
                                      ("E_AMOUNT_MISSING", 2, "Contribution INDH", None)]


def test_a_row_level_province_column_is_checked_against_the_folder():
    header = HEADER + ["Province"]
    rows = [header, project("A-1") + ["Taounate"], project("A-2") + ["Tanger-Assilah"],
            project("A-3") + ["Atlantide"], project("A-4") + [None], project("A-5") + ["  "]]
    result = read_project_sheet(sheet(rows), "MA-TAO")
    assert rules(result.findings) == [("E_PROVINCE_MISMATCH", 3, "Province", "Tanger-Assilah"),
                                      ("E_PROVINCE_UNKNOWN", 4, "Province", "Atlantide")]
    assert all(r["province_code"] == "MA-TAO" for r in result.rows)
    assert [f.project_code for f in result.findings] == ["A-2", "A-3"]


def test_every_value_finding_names_its_cell():
    header = HEADER + ["Nombre de bénéficiaires", "Dont femmes", "Année d'approbation", "Date de démarrage",
                       "Secteur d'activité", "Statut", "Type de porteur", "Programme", "Commune",
                       "Porteur de projet"]
    good = project("A-1") + [12.0, "3", 2013.0, dt.datetime(2013, 5, 2), "Couture", "En cours", "Coopérative",
                             "Milieu rural", "  Tissa ", "Coop  Nour"]
    bad = ["A-2", None, "abc", None, "30 %", None, "2.5", -1.0, "20l3", "bientôt", "Pêche sous-marine", "Fini",
           "Sultan", "Programme inconnu", None, None]
    result = read_project_sheet(sheet([header, good, bad]), "MA-TAO")
    row = result.rows[0]
    assert (row["beneficiaries"], row["women"], row["approval_year"], row["start_date"]) == (
        12, 3, 2013, dt.date(2013, 5, 2))
    assert (row["commune"], row["promoter_name"], row["total_cost_mad"]) == ("Tissa", "Coop Nour", 10_000_000)
    assert row["programme_code"] == "P2_RURAL" and row["sector_code"] and row["status_code"]
    assert row["promoter_type_code"]
    assert rules(result.findings) == [
        ("W_TITLE_MISSING", 3, "Intitulé du projet", None),
        ("E_AMOUNT_INVALID", 3, "Coût global (DH)", "abc"),
        ("E_AMOUNT_MISSING", 3, "Contribution INDH", None),
        ("E_AMOUNT_PERCENT", 3, "Contribution porteur", "30 %"),
        ("E_COUNT_INVALID", 3, "Nombre de bénéficiaires", "2.5"),
        ("E_COUNT_INVALID", 3, "Dont femmes", "-1"),
        ("E_YEAR_INVALID", 3, "Année d'approbation", "20l3"),
        ("W_DATE_INVALID", 3, "Date de démarrage", "bientôt"),
        ("W_LABEL_UNKNOWN", 3, "Secteur d'activité", "Pêche sous-marine"),
        ("W_LABEL_UNKNOWN", 3, "Statut", "Fini"),
        ("W_LABEL_UNKNOWN", 3, "Type de porteur", "Sultan"),
        ("W_LABEL_UNKNOWN", 3, "Programme", "Programme inconnu"),
    ]
    assert all(f.project_code == "A-2" and f.sheet == "Projets" for f in result.findings)
    assert result.rows[1]["programme_code"] is None


def test_a_programme_needs_a_year_in_its_phase():
    header = HEADER + ["Programme", "Année d'approbation"]
    rows = [header, project("A-1") + ["Milieu rural", 2007.0], project("A-2") + ["Milieu rural", 1990.0]]
    result = read_project_sheet(sheet(rows), "MA-TAO")
    assert [r["programme_code"] for r in result.rows] == ["P1_RURAL", None]
    assert rules(result.findings) == []  # no phase to say it is out of: the year is outside them all


def test_the_header_is_found_below_a_title_block_and_unknown_columns_are_named():
    rows = [["Royaume du Maroc"], ["Province de Taounate", None, "2013"], [],
            ["N°", *HEADER, "Observations"], [1.0, *project("A-1"), "RAS"]]
    result = read_project_sheet(sheet(rows), "MA-TAO")
    assert result.header_row == 4
    assert result.headers["project_code"] == "Code projet"
    assert rules(result.findings) == [("COLUMN_UNMAPPED", 4, "N°", "N°"),
                                      ("COLUMN_UNMAPPED", 4, "Observations", "Observations")]
    assert result.rows[0]["excel_row"] == 5
    assert result.cells_as_read(result.rows[0]) == dict(zip(HEADER, project("A-1")))
    assert result.columns == {1: "project_code", 2: "title", 3: "total_cost_mad", 4: "indh_contribution_mad",
                              5: "promoter_contribution_mad", 6: "partner_contribution_mad"}


def test_cells_as_read_of_a_short_row_fill_the_missing_cells_with_none():
    result = read_project_sheet(RawSheet("csv", [HEADER, ["A-1", "Titre", "100"]], file_format="csv"), "MA-TAO")
    assert result.cells_as_read(result.rows[0]) == {
        "Code projet": "A-1", "Intitulé du projet": "Titre", "Coût global (DH)": "100", "Contribution INDH": None,
        "Contribution porteur": None, "Autres partenaires": None}


def test_the_header_must_name_a_code_and_three_columns_within_forty_rows():
    assert find_header([["Code projet", "Intitulé du projet"], ["A-1", "x"]]) is None
    assert find_header([["Intitulé du projet", "Coût global", "Contribution INDH"]]) is None
    assert find_header([[None]] * 39 + [HEADER]) == (39, {i: c for i, c in enumerate(
        ["project_code", "title", "total_cost_mad", "indh_contribution_mad", "promoter_contribution_mad",
         "partner_contribution_mad"])})
    assert find_header([[None]] * 40 + [HEADER]) is None
    # The row that maps most columns wins over an earlier one that maps fewer.
    found = find_header([["Code", "Intitulé", "Coût global"], HEADER])
    assert found[0] == 1


def test_two_line_headers_under_a_merged_group_title():
    upper = ["Code projet", "Intitulé du projet", "Financement", None, None, None]
    lower = [None, None, "Coût global", "INDH", "Porteur", "Partenaires"]
    merged = [((0, 2), (0, 5))]
    found = find_header_lines([upper, lower, project("A-1")], merged)
    assert found is not None
    index, mapped, lines, texts = found
    assert (index, lines) == (0, 2)
    assert mapped[2] == "total_cost_mad" and mapped[3] == "indh_contribution_mad"
    assert texts[3] == "Financement INDH"
    result = read_project_sheet(sheet([upper, lower, project("A-1")], merged=merged), "MA-TAO")
    assert result.rows[0]["excel_row"] == 3 and result.rows[0]["indh_contribution_mad"] == 6_000_000
    assert result.headers["indh_contribution_mad"] == "Financement INDH"


def test_two_line_headers_without_merges_extend_a_title_over_the_sub_columns():
    upper = ["Code projet", "Intitulé du projet", "Financement", None, "Observations", None]
    lower = [None, None, "Coût global", "INDH", None, None]
    mapped, texts = map_two_line_headers(upper, lower, None, 0)
    assert mapped == {0: "project_code", 1: "title", 2: "total_cost_mad", 3: "indh_contribution_mad"}
    assert texts[2] == "Financement Coût global"
    result = read_project_sheet(sheet([upper, lower, ["A-1", "x", 10.0, 5.0, "note", None]]), "MA-TAO")
    assert rules(result.findings) == [("COLUMN_UNMAPPED", 1, "Observations", "Observations")]


def test_a_merge_over_another_row_does_not_spread_the_title():
    upper = ["Code projet", "Intitulé du projet", "Financement", None]
    lower = [None, None, "Coût global", "INDH"]
    mapped, _ = map_two_line_headers(upper, lower, [((5, 2), (5, 3))], 0)
    assert mapped.get(3) != "indh_contribution_mad"


def test_a_first_project_row_is_never_a_second_header_line():
    rows = [HEADER, ["A-1", "Unité", "100 000", "60 000", None, None]]
    found = find_header_lines(rows)
    assert found[2] == 1
    rows = [HEADER, ["Couture", "Unité", dt.date(2013, 1, 1), None, None, None]]
    assert find_header_lines(rows)[2] == 1


def test_headers_are_matched_without_units_case_or_accents():
    assert map_headers(["CODE PROJET", "Code projet", None, "", "intitule du projet", 12.0]) == {
        0: "project_code", 4: "title"}
    assert map_headers(["Coût global (en DH)", "Contribution INDH [MAD]"]) == {
        0: "total_cost_mad", 1: "indh_contribution_mad"}


def test_hidden_rows_that_are_loaded_are_named():
    rows = [HEADER, project("A-1"), project("A-2"), [None] * 6]
    result = read_project_sheet(sheet(rows, hidden_rows={3, 4}), "MA-TAO")
    assert rules(result.findings) == [("ROW_HIDDEN", 3, None, "A-2")]
    assert result.findings[0].project_code == "A-2"


def test_a_sheet_without_a_header_is_none():
    assert read_project_sheet(sheet([["a", "b"], [1, 2]]), "MA-TAO") is None


def test_finding_messages_carry_the_value_and_the_detail_in_each_language():
    finding = Finding("E_AMOUNT_INVALID", "S", 3, "Coût", "abc")
    assert finding.severity == "error"
    french, arabic = finding.messages()
    assert "abc" in french and "abc" in arabic
    refusal = Finding("FILE_CORRUPT", params={"detail": "archive endommagée", "detail_ar": "أرشيف تالف"})
    french, arabic = refusal.messages()
    assert "archive endommagée" in french and "أرشيف تالف" in arabic and "archive" not in arabic
    assert Finding("W_TITLE_MISSING").messages()[0]


MERGED_UPPER = ["Code projet", "Intitulé du projet", "Financement", None, None]
MERGED_LOWER = [None, None, "INDH", None, "Porteur"]
MERGED = [((0, 2), (0, 4))]


def test_a_merged_title_covers_a_gap_in_the_lower_line_where_spreading_stops():
    rows = [MERGED_UPPER, MERGED_LOWER, ["A-1", "x", 10.0, None, 5.0]]
    # Merged over C:E, "Financement" sits above "Porteur" too: the promoter's contribution.
    assert find_header_lines(rows, MERGED)[1][4] == "promoter_contribution_mad"
    assert find_header(rows, MERGED)[1][4] == "promoter_contribution_mad"
    # Without the merge, a title spreads only over the sub-columns next to it: "Porteur" alone.
    assert find_header_lines(rows)[1][4] == "promoter_name"
    result = read_project_sheet(sheet(rows, merged=MERGED), "MA-TAO")
    assert result.headers["promoter_contribution_mad"] == "Financement Porteur"
    assert result.rows[0]["promoter_contribution_mad"] == 500


def test_a_lower_header_line_shorter_than_the_upper_one():
    upper = ["Code projet", "Intitulé du projet", "Financement", None, "Observations"]
    lower = ["", "", "INDH"]  # a CSV line stops at its last cell
    mapped, _ = map_two_line_headers(upper, lower, None, 0)
    assert mapped == {0: "project_code", 1: "title", 2: "indh_contribution_mad"}


def test_a_two_line_header_on_the_last_two_rows_is_still_found():
    found = find_header_lines([MERGED_UPPER, MERGED_LOWER], MERGED)
    assert found is not None and found[2] == 2


def test_of_two_equal_headers_the_first_is_the_header():
    assert find_header([HEADER, HEADER, project("A-1")])[0] == 0


def test_reading_sheets_leaves_the_garbage_collector_as_it_found_it():
    import gc

    assert gc.isenabled()
    read_project_sheets([sheet([HEADER, project("A-1")])], "MA-TAO")
    assert gc.isenabled()
    gc.disable()
    try:
        read_project_sheets([sheet([HEADER, project("A-1")])], "MA-TAO")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_every_sheet_finding_names_its_sheet_and_rows_their_province():
    raw = [sheet([HEADER + ["Obs."], project("A-1") + [None]], name="Projets"),
           sheet([["note"]], name="Notes"), sheet([HEADER, project("B-1")], name="Suite", hidden_rows={2})]
    sheets, findings = read_project_sheets(raw, "MA-TAO")
    assert [(f.rule_id, f.sheet) for f in findings] == [("SHEET_SKIPPED", "Notes"), ("SHEET_USED", "Projets"),
                                                        ("SHEET_USED", "Suite")]
    assert [(f.rule_id, f.sheet) for s in sheets for f in s.findings] == [("COLUMN_UNMAPPED", "Projets"),
                                                                          ("ROW_HIDDEN", "Suite")]
    assert {row["province_code"] for s in sheets for row in s.rows} == {"MA-TAO"}


def test_blank_rows_each_count_as_skipped():
    rows = [HEADER, [None] * 6, ["", None, "", None, None, None], project("A-1"), [None] * 6]
    assert read_project_sheet(sheet(rows), "MA-TAO").skipped_rows == 3


def test_a_zero_total_without_code_is_a_note_not_a_sums_row():
    rows = [HEADER, project("A-1", total=0.0, indh=0.0, promoter=0.0, partner=0.0),
            [None, None, 0.0, None, None, None], project("A-2")]
    result = read_project_sheet(sheet(rows), "MA-TAO")
    assert result.skipped_rows == 1 and result.subtotal_from == 0


def test_a_missing_total_counts_as_nothing_in_the_sums():
    rows = [HEADER, project("A-1", total=100.0), ["A-2", "x", None, 5.0, None, None],
            [None, None, 100.0, None, None, None]]
    result = read_project_sheet(sheet(rows), "MA-TAO")
    assert [r["project_code"] for r in result.rows] == ["A-1", "A-2"]
    assert result.subtotal_from == 2


def test_a_row_without_labels_has_no_label_codes():
    result = read_project_sheet(sheet([HEADER, project("A-1")]), "MA-TAO")
    row = result.rows[0]
    assert (row["sector_code"], row["status_code"], row["promoter_type_code"], row["programme_code"]) == (
        None, None, None, None)
    assert set(row) >= {"sector_code", "status_code", "promoter_type_code", "programme_code"}
    assert result.findings == []


def test_each_totals_row_counts_as_skipped():
    rows = [HEADER, project("A-1"), [None, "Sous-total", 100_000.0, None, None, None], project("A-2"),
            [None, "Total général", 200_000.0, None, None, None]]
    result = read_project_sheet(sheet(rows), "MA-TAO")
    assert result.skipped_rows == 2 and result.subtotal_from == 2


def test_empty_header_cells_as_calamine_gives_them_name_nothing():
    upper = ["Code projet", "Intitulé du projet", "Financement", "Observations", ""]
    lower = ["", "", "INDH", "", ""]
    result = read_project_sheet(sheet([upper, lower, ["A-1", "x", 10.0, "", ""]]), "MA-TAO")
    assert [(f.rule_id, f.sheet, f.excel_row, f.value) for f in result.findings] == [
        ("COLUMN_UNMAPPED", "Projets", 1, "Observations"), ("E_AMOUNT_MISSING", "Projets", 3, None)]
    short_lower = ["", "", "INDH"]  # a lower line that stops before the upper one's last title
    result = read_project_sheet(sheet([upper[:4], short_lower, ["A-1", "x", 10.0]]), "MA-TAO")
    assert [(f.rule_id, f.sheet, f.value) for f in result.findings] == [("COLUMN_UNMAPPED", "Projets", "Observations"),
                                                                        ("E_AMOUNT_MISSING", "Projets", None)]
    assert read_project_sheet(sheet([HEADER + [""], project("A-1") + [""]]), "MA-TAO").findings == []


# --- What the clerk is told about headers and labels read by resemblance (issue 12), and the rest
# of the normaliser's findings with every field: the mutation run on the current code (issue 13). ---

def test_headers_read_by_resemblance_are_named_for_a_person_to_confirm():
    header = ["Code projet", "Intitulé du projet", "Coût globale", "Contribution INDH", "Année de création",
              "Contribution partenaire porteur", "Code projt", "Observations"]
    result = read_project_sheet(sheet([header, ["A-1", "x", 10.0, 5.0, None, None, None, None]]), "MA-TAO")
    assert result.headers["total_cost_mad"] == "Coût globale"
    assert result.findings == [
        Finding("COLUMN_GUESSED", "Projets", 1, "Coût globale", "Coût globale",
                params={"column_fr": "Coût global", "column_ar": "الكلفة الإجمالية"}),
        Finding("COLUMN_UNMAPPED", "Projets", 1, "Année de création", "Année de création",
                params={"suggestion_fr": " Vouliez-vous dire « Année d'approbation » ?",
                        "suggestion_ar": " هل تقصد « سنة المصادقة »؟"}),
        Finding("COLUMN_UNMAPPED", "Projets", 1, "Code projt", "Code projt",
                params={"suggestion_fr": " Elle ressemble à « Code projet », déjà lue dans une autre colonne.",
                        "suggestion_ar": " يشبه « رمز المشروع »، المقروء في عمود آخر."}),
        Finding("COLUMN_UNMAPPED", "Projets", 1, "Contribution partenaire porteur", "Contribution partenaire porteur",
                params={"suggestion_fr": " Elle ressemble autant à « Contribution porteur » ou « Autres partenaires » :"
                                         " précisez-la.",
                        "suggestion_ar": " تشبه بنفس القدر « مساهمة حامل المشروع » أو « مساهمة الشركاء »: وضّحها."}),
        Finding("COLUMN_UNMAPPED", "Projets", 1, "Observations", "Observations"),
    ]


def test_of_two_guesses_for_one_column_the_closer_wins_and_equal_ones_are_both_left():
    # "Montant" reads as the total cost word for word, "Coût globale" only one typo away.
    assert map_headers(["Code projet", "Observations", "Coût globale", "Montant"]) == {
        0: "project_code", 3: "total_cost_mad"}
    assert map_headers(["Code projet", "Montant", "Observations", "Coût globale"]) == {
        0: "project_code", 1: "total_cost_mad"}
    assert map_headers(["Code projet", "Coût globale", "Coûts global"]) == {0: "project_code"}
    assert map_headers(["Code projet", "Observations", "Coût globale"]) == {0: "project_code", 2: "total_cost_mad"}
    assert map_headers(["Code projet", "Observations", "Coût globale"], resemblance=False) == {0: "project_code"}


def test_a_row_holding_a_number_is_matched_exactly_only():
    # A header line holds labels: the same texts next to a number are a project row, never guessed at.
    assert find_header([["Code projt", "Intitulé du projet", "Coût global (DH)"]]) == (
        0, {0: "project_code", 1: "title", 2: "total_cost_mad"})
    assert find_header([["Code projt", "Intitulé du projet", "Coût global (DH)", 12.0]]) is None
    # An empty line under it (a CSV gives "" cells) is no second header line to guess with either.
    assert find_header([["Code projt", "Intitulé du projet", "Coût global (DH)", 12.0], ["", "", "", ""]]) is None


@pytest.mark.parametrize("first_row", [
    ["A-1", "Unité de couture", "100 000", "Commune"],              # an amount typed as text
    ["A-1", "Unité de couture", dt.datetime(2013, 1, 1), "Commune"],  # a date
    ["A-1", "Unité de couture", True, "Commune"],
])
def test_a_first_project_row_with_a_header_word_is_still_a_project_row(first_row):
    rows = [["Code projet", "Intitulé du projet", "Coût global (DH)", None], first_row]
    assert find_header_lines(rows)[1:3] == ({0: "project_code", 1: "title", 2: "total_cost_mad"}, 1)


def test_a_guessed_lower_line_under_a_group_title_is_read_with_its_title():
    upper = ["Code projet", "Intitulé du projet", "Financement", None]
    lower = [None, None, "Coût globale", "Contrib INDH"]
    mapped, texts = map_two_line_headers(upper, lower, [((0, 2), (0, 3))], 0)
    assert mapped == {0: "project_code", 1: "title", 2: "total_cost_mad", 3: "indh_contribution_mad"}
    assert texts == {0: "Code projet", 1: "Intitulé du projet", 2: "Financement Coût globale", 3: "Contrib INDH"}


def test_a_merged_group_title_covers_exactly_its_merged_columns():
    upper = ["Code projet", None, "Financement", None, None]
    lower = [None, "Intitulé du projet", "Coût global", "INDH", "Porteur"]
    mapped, texts = map_two_line_headers(upper, lower, [((0, 2), (0, 3))], 0)
    assert texts == {0: "Code projet", 1: "Intitulé du projet", 2: "Financement Coût global", 3: "Financement INDH",
                     4: "Porteur"}
    assert mapped[4] == "promoter_name"  # "Porteur" alone, outside the merge: the promoter, not his share
    # A merge recorded past the upper line's last cell has no title to spread.
    mapped, _ = map_two_line_headers(["Code projet", "Intitulé du projet", "Financement"],
                                     [None, None, "Coût global", "INDH", "Porteur"], [((0, 3), (0, 4))], 0)
    assert mapped == {0: "project_code", 1: "title", 2: "total_cost_mad", 4: "promoter_name"}


def test_without_merges_a_title_spreads_over_empty_upper_cells_until_a_lower_cell_is_empty():
    # Empty cells as a CSV or calamine gives them: "" rather than None.
    upper = ["Code projet", "Intitulé du projet", "Financement", "", ""]
    _, texts = map_two_line_headers(upper, ["", "", "Coût global", "INDH", "Porteur"], None, 0)
    assert texts[3] == "Financement INDH" and texts[4] == "Financement Porteur"
    mapped, _ = map_two_line_headers(upper, ["", "", "Coût global", "", "INDH"], None, 0)
    assert mapped == {0: "project_code", 1: "title", 2: "total_cost_mad"}  # "INDH" alone names nothing


def test_labels_read_by_resemblance_are_named_once_with_their_first_row_and_count():
    header = HEADER + ["Secteur d'activité", "Statut", "Programme", "Année d'approbation"]
    rows = [header, project("A-1") + ["Apicultures", "En cour", "Prog. transversal", 2013.0],
            project("A-2") + ["Apicultures", "Achevés", "Prog. transversal", 2013.0],
            project("A-3") + ["Artisanat local", "Fini", "Programme pauvreté", 2013.0]]
    result = read_project_sheet(sheet(rows), "MA-TAO")
    assert [(r["sector_code"], r["status_code"], r["programme_code"]) for r in result.rows] == [
        ("BEEKEEPING", "in_progress", "P2_TRANSVERSAL"), ("BEEKEEPING", "completed", "P2_TRANSVERSAL"), (None, None, None)]
    assert result.findings == [
        Finding("W_LABEL_UNKNOWN", "Projets", 4, "Secteur d'activité", "Artisanat local", "A-3",
                {"suggestion_fr": " Vouliez-vous dire « Artisanat » ?", "suggestion_ar": " هل تقصد « الصناعة التقليدية »؟"}),
        Finding("W_LABEL_UNKNOWN", "Projets", 4, "Statut", "Fini", "A-3"),
        Finding("W_LABEL_UNKNOWN", "Projets", 4, "Programme", "Programme pauvreté", "A-3",
                {"suggestion_fr": " Vouliez-vous dire « Programme de lutte contre la pauvreté en milieu rural » ?",
                 "suggestion_ar": " هل تقصد « برنامج محاربة الفقر بالوسط القروي »؟"}),
        Finding("LABEL_GUESSED", "Projets", 2, "Secteur d'activité", "Apicultures",
                params={"label_fr": "Apiculture", "label_ar": "تربية النحل", "rows": 2}),
        Finding("LABEL_GUESSED", "Projets", 2, "Statut", "En cour",
                params={"label_fr": "En cours", "label_ar": "في طور الإنجاز", "rows": 1}),
        Finding("LABEL_GUESSED", "Projets", 2, "Programme", "Prog. transversal",
                params={"label_fr": "Programme transversal", "label_ar": "البرنامج الأفقي", "rows": 2}),
        Finding("LABEL_GUESSED", "Projets", 3, "Statut", "Achevés",
                params={"label_fr": "Achevé", "label_ar": "منجز", "rows": 1}),
    ]


def test_a_programme_not_in_its_phase_says_which_year_chose_the_phase():
    header = HEADER + ["Programme", "Année d'approbation"]
    territorial = "Mise à niveau territoriale"  # a programme of phase 2 only
    rows = [header, project("A-1") + [territorial, 2020.0], project("A-2") + [territorial, None],
            project("A-3") + [territorial, 1990.0], project("A-4") + [territorial, 2013.0]]
    no_period = read_project_sheet(sheet(rows), "MA-TAO")
    assert [r["programme_code"] for r in no_period.rows] == [None, "P2_TERRITORIAL", "P2_TERRITORIAL", "P2_TERRITORIAL"]
    assert no_period.findings == [Finding("W_PROGRAMME_NOT_IN_PHASE", "Projets", 2, "Programme", territorial, "A-1",
                                          {"phase": 3, "year": 2020})]
    sheets, _ = read_project_sheets([sheet(rows)], "MA-TAO", period_year=2021)
    assert [r["programme_code"] for r in sheets[0].rows] == [None, None, None, "P2_TERRITORIAL"]
    assert sheets[0].findings == [
        # The row's own year chose phase 3: the period has nothing to do with it.
        Finding("W_PROGRAMME_NOT_IN_PHASE", "Projets", 2, "Programme", territorial, "A-1", {"phase": 3, "year": 2020}),
        Finding("W_PROGRAMME_NOT_IN_PHASE", "Projets", 3, "Programme", territorial, "A-2", {
            "phase": 3, "year": 2021, "note_fr": ", retenue d'après la période 2021 faute d'année d'approbation lisible",
            "note_ar": "، اعتُمدت حسب الفترة 2021 لغياب سنة مصادقة مقروءة"}),
        Finding("W_PROGRAMME_NOT_IN_PHASE", "Projets", 4, "Programme", territorial, "A-3", {
            "phase": 3, "year": 2021,
            "note_fr": ", retenue d'après la période 2021 l'année d'approbation 1990 n'étant dans aucune phase",
            "note_ar": "، اعتُمدت حسب الفترة 2021 لأن سنة المصادقة 1990 خارج مراحل المبادرة"}),
    ]


def test_rows_and_cells_the_reader_could_not_take_are_named_below_the_header_only():
    rows = [["Titre"], HEADER, project("A-1"), project("A-2")]
    raw = sheet(rows, unreadable_rows={1: "en-tête", 3: "date invalide"},
                long_cells={(2, 0): 40_000, (3, 1): 40_000, (4, 6): 50_000})
    result = read_project_sheet(raw, "MA-TAO")
    assert result.findings == [
        Finding("E_ROW_UNREADABLE", "Projets", 3, params={"detail": "date invalide"}),
        Finding("E_CELL_TOO_LONG", "Projets", 3, "Intitulé du projet", "Unité de couture",
                params={"length": 40_000, "max_length": 32_767}),
        Finding("E_CELL_TOO_LONG", "Projets", 4, None, None, params={"length": 50_000, "max_length": 32_767}),
    ]


def test_a_sheet_from_a_reader_that_records_no_merges_or_row_troubles_is_read():
    from types import SimpleNamespace

    raw = SimpleNamespace(name="Projets", rows=[HEADER, project("A-1")], hidden=False)
    result = read_project_sheet(raw, "MA-TAO")
    assert [r["project_code"] for r in result.rows] == ["A-1"] and result.findings == []


def test_amounts_up_to_ten_billion_dirhams_are_read_and_beyond_are_too_large():
    rows = [HEADER, project("A-1", total="10 000 000 000,00", indh="-10 000 000 000,00"),
            project("A-2", total="10 000 000 000,01", indh="-10 000 000 000,01")]
    result = read_project_sheet(sheet(rows), "MA-TAO")
    assert [(r["total_cost_mad"], r["indh_contribution_mad"]) for r in result.rows] == [
        (1_000_000_000_000, -1_000_000_000_000), (None, None)]
    assert result.findings == [
        Finding("E_AMOUNT_TOO_LARGE", "Projets", 3, "Coût global (DH)", "10 000 000 000,01", "A-2"),
        Finding("E_AMOUNT_TOO_LARGE", "Projets", 3, "Contribution INDH", "-10 000 000 000,01", "A-2"),
    ]


def test_a_section_heading_in_the_code_column_of_a_csv_is_not_a_project():
    rows = [HEADER, ["Commune de Tissa", "", "", "", "", ""], project("A-1")]
    result = read_project_sheet(sheet(rows), "MA-TAO")
    assert [r["project_code"] for r in result.rows] == ["A-1"] and result.skipped_rows == 1


def test_a_header_text_taken_from_one_line_of_two_is_named_as_typed():
    # Beside a merged title, an empty cell above or below leaves the other line's text alone: the
    # clerk is shown "Coût globale" and "Intitulé du projet", not " Coût globale" or "Intitulé du projet ".
    mapped, texts = map_two_line_headers(["Code projet", "Intitulé du projet", "", "Financement", None],
                                         ["", "", "Coût globale", "INDH", "Porteur"], [((0, 3), (0, 4))], 0)
    assert mapped == {0: "project_code", 1: "title", 2: "total_cost_mad", 3: "indh_contribution_mad",
                      4: "promoter_contribution_mad"}
    assert texts == {0: "Code projet", 1: "Intitulé du projet", 2: "Coût globale", 3: "Financement INDH",
                     4: "Financement Porteur"}
