"""The five capacity levels of the national standard 《老年人能力评估规范》 (GB/T 42195-2022), in order."""

LEVELS = ("intact", "mild", "moderate", "severe", "total")
LEVEL_NAMES_ZH = ("能力完好", "轻度失能", "中度失能", "重度失能", "完全失能")
N_LEVELS = len(LEVELS)
INTACT, MILD, MODERATE, SEVERE, TOTAL = range(N_LEVELS)
