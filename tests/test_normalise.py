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
