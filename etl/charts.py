"""PNG charts of the main indicators, for the published folder and the national HTML report."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

MILLION = 1_000_000


def write_charts(folder: Path, tables: dict) -> dict[str, Path]:
    """Draw the charts from the exported mart rows; returns {title: png path}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts: dict[str, Path] = {}

    def save(figure, name: str, title: str) -> None:
        path = folder / f"{name}.png"
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)
        charts[title] = path

    def rows_of(mart: str) -> list[dict]:
        columns, rows = tables[mart]
        return [dict(zip(columns, row)) for row in rows]

    regions = rows_of("region_summary")
    names = [r["region_name_fr"] for r in regions]
    figure, axis = plt.subplots(figsize=(8, 4.5))
    positions = range(len(regions))
    axis.barh([p + 0.2 for p in positions], [float(r["total_cost_mad"]) / MILLION for r in regions],
              height=0.4, label="Coût global", color="#2a9d8f")
    axis.barh([p - 0.2 for p in positions], [float(r["indh_contribution_mad"]) / MILLION for r in regions],
              height=0.4, label="Contribution INDH", color="#e9c46a")
    axis.set_yticks(list(positions), names)
    axis.invert_yaxis()
    axis.set_xlabel("millions de DH")
    axis.legend()
    save(figure, "cout_par_region", "Coût global et contribution INDH par région (MDH)")

    figure, axis = plt.subplots(figsize=(8, 4.5))
    axis.barh(list(positions), [float(r["women_share"] or 0) * 100 for r in regions], height=0.4,
              label="Femmes", color="#e76f51")
    axis.barh([p + 0.4 for p in positions], [float(r["youth_share"] or 0) * 100 for r in regions],
              height=0.4, label="Jeunes", color="#264653")
    axis.set_yticks([p + 0.2 for p in positions], names)
    axis.invert_yaxis()
    axis.set_xlabel("% des bénéficiaires")
    axis.legend()
    save(figure, "femmes_jeunes_par_region", "Part des femmes et des jeunes parmi les bénéficiaires, par région")

    by_year: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    region_names = {r["region_code"]: r["region_name_fr"] for r in regions}
    for row in rows_of("province_year_summary"):
        if row["approval_year"] is not None:
            by_year[row["region_code"]][row["approval_year"]] += float(row["total_cost_mad"]) / MILLION
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for code, series in sorted(by_year.items()):
        years = sorted(series)
        axis.plot(years, [series[y] for y in years], marker="o", markersize=3, label=region_names.get(code, code))
    axis.set_xlabel("année d'approbation")
    axis.set_ylabel("millions de DH")
    axis.legend(fontsize=6, ncol=2)
    save(figure, "cout_par_annee_et_region", "Coût des projets approuvés par année et par région (MDH)")

    provinces = sorted(rows_of("province_summary"), key=lambda r: r["total_cost_mad"], reverse=True)[:20]
    figure, axis = plt.subplots(figsize=(8, 5))
    axis.barh([p["province_name_fr"] for p in provinces], [float(p["total_cost_mad"]) / MILLION for p in provinces],
              color="#2a9d8f")
    axis.invert_yaxis()
    axis.set_xlabel("millions de DH")
    save(figure, "cout_par_province", "Les 20 provinces au coût global le plus élevé (MDH)")
    return charts
