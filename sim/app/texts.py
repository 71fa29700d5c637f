"""Every word of the app in English and Chinese (indicator and region names come from the indicator
catalogue and the region data, the report's tables from the report's own labels)."""

from __future__ import annotations

# Chinese where the browser's machine has no Chinese font: Noto Sans SC (the charts' font) served by the
# app, fetched only for Chinese characters and only when none of the usual system fonts is there
FONTS = (
    'Roboto, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans SC", '
    '"Source Han Sans SC", "WenQuanYi Micro Hei", "Sim Noto Sans SC", sans-serif'
)

TEXTS: dict[str, tuple[str, str]] = {
    # frame
    "app_title": ("Ageing and long-term care: a scenario explorer", "人口老龄化与长期照护：情景分析"),
    "tab_scenario": ("Scenario", "情景"),
    "tab_results": ("Results", "结果"),
    "tab_compare": ("Compare", "比较"),
    "tab_plan": ("Find a plan", "寻找方案"),
    "tab_explain": ("Explain", "说明"),
    "language": ("Language", "语言"),
    # picking
    "region": ("Region", "地区"),
    "group_nation": ("Nation", "全国"),
    "group_provinces": ("Provinces", "省级"),
    "group_cities": ("Cities", "城市"),
    "group_user": ("Your cities", "自定义城市"),
    "start_from": ("Start from", "起始情景"),
    "baseline_of": ("Baseline: the 2020 care supply, no new policy", "基线：2020年照护供给，无新增政策"),
    "upload": ("Upload a scenario YAML (drop it here)", "上传情景YAML文件（拖放到此处）"),
    "uploaded": ("Uploaded", "已上传"),
    "changes": ("Your changes to the starting scenario", "相对起始情景的修改"),
    "no_changes": ("none: this is the starting scenario as written", "无：即起始情景本身"),
    "reset": ("Undo all changes", "撤销全部修改"),
    "command": ("The same run from the command line", "命令行中的同一运行"),
    "link": ("Link that reopens this scenario", "重新打开此情景的链接"),
    # levers (their sections and labels are the lever catalogue's), targets and the run's settings
    "sec_targets": ("Plan targets", "规划目标"),
    "sec_run": ("Run settings", "运行设置"),
    "field_name": ("Name (its results folder and file names)", "名称（结果文件夹与文件名）"),
    "field_replicates": ("Replicates (more: a narrower interval, a longer run)", "重复次数（越多区间越准，运行越久）"),
    "field_scale": ("Persons per agent (1: one agent per person)", "每个主体代表人数（1：一人一主体）"),
    "field_seed": ("Seed", "随机种子"),
    "year": ("Year", "年份"),
    "value": ("Value", "数值"),
    "add_year": ("Add a year", "增加年份"),
    "remove": ("Remove", "删除"),
    "every_year": ("every year", "每年"),
    "default_kept": ("not set: the region's own figure", "未设定：沿用地区现状"),
    "path_help": (
        "One year: a target reached by then along a straight line from 2020; several years: a schedule.",
        "一个年份：自2020年起线性达到该年目标；多个年份：逐年安排。",
    ),
    "profile": ("How the change comes (time profile)", "推进方式"),
    "profile_table": ("year by year, as in the table", "逐年数值（按表格）"),
    "profile_to": ("Value reached", "目标值"),
    "profile_by": ("By year", "达到年份"),
    "profile_start": ("From year (blank: the base year)", "起始年份（空：基年）"),
    "no_insurance": ("No insurance", "不实施"),
    "indicator": ("Indicator", "指标"),
    "direction": ("Direction", "方向"),
    "at_least": ("at least", "不低于"),
    "at_most": ("at most", "不高于"),
    "add_target": ("Add a target", "增加目标"),
    # running
    "run": ("Run", "运行"),
    "cancel": ("Cancel", "取消"),
    "queued": ("Queued: waiting for a worker", "排队中：等待计算资源"),
    "running": ("Running: {pct:.0f}% of the simulated years", "运行中：已完成模拟年份的{pct:.0f}%"),
    "done": ("Done in {seconds:.1f} s", "完成，用时{seconds:.1f}秒"),
    "stored": ("Stored results of this exact scenario (same code and data)", "此情景的已存结果（代码与数据相同）"),
    "cancelled": ("Cancelled: the run was stopped and nothing was stored", "已取消：运行已停止，未保存结果"),
    "failed": ("The run failed: {error}", "运行失败：{error}"),
    "not_run": ("Not run yet: press Run", "尚未运行：请点击“运行”"),
    "internal": (
        "Something went wrong on the server ({what}); the scenario is unchanged",
        "服务器出错（{what}）；情景未改变",
    ),
    # the emulated preview (sim app --emulator)
    "preview_heading": ("Preview of the key charts", "主要图表预览"),
    "preview_banner": (
        "Emulated preview, not a model run: held-out error {error}",
        "模拟器预览，并非模型运行：留出验证误差 {error}",
    ),
    "preview_help": (
        "An emulator trained on {runs:,} model runs ({name}) predicts these charts at once; the shaded band holds 90% "
        "of single runs; the error is its root-mean-square error on runs it never saw, as a share of how much the "
        "outcome varies over the levers' ranges (the largest of the charts shown). Press Run for the model's own "
        "results, which replace the preview.",
        "模拟器（基于{runs}次模型运行训练，{name}）即时预测以下图表；阴影为单次运行的90%区间；误差为其在未参与训练的"
        "运行上的均方根误差，占该指标在各政策取值范围内变化幅度的比例（取所示图表中的最大值）。点击“运行”获得模型"
        "本身的结果，并替换预览。",
    ),
    "preview_kind": ("Emulated preview, held-out error {error}", "模拟器预览，留出验证误差 {error}"),
    "preview_model_kind": ("Model run", "模型运行"),
    "preview_model": (
        "The model's own results (replicates: {replicates}), in place of the emulated preview",
        "模型本身的结果（重复次数：{replicates}），已替换模拟器预览",
    ),
    "preview_not": ("{what}: not previewed: held-out R² {r2}", "{what}：不预览：留出验证R² {r2}"),
    "preview_not_coverage": (
        "{what}: not previewed: its 90% band held {coverage} of held-out runs",
        "{what}：不预览：其90%区间仅包含{coverage}的留出运行",
    ),
    "preview_scenario": (
        "No emulated preview: this is not the scenario the emulator learnt ({name}; {key} differs); press Run",
        "无模拟器预览：此情景不是模拟器所学习的情景（{name}；{key}不同）；请点击“运行”",
    ),
    "preview_lever": (
        "No emulated preview: {lever} is not one of the levers the emulator learnt; press Run",
        "无模拟器预览：{lever}不在模拟器所学习的政策之中；请点击“运行”",
    ),
    "preview_form": (
        "No emulated preview: the emulator learnt {lever} by its {years} value only (a straight line to it); press Run",
        "无模拟器预览：模拟器仅学习了{lever}在{years}年的取值（线性达到）；请点击“运行”",
    ),
    "preview_range": (
        "No emulated preview: {lever} = {value} is outside what the emulator learnt ({allowed}); it is not "
        "extrapolated: press Run",
        "无模拟器预览：{lever} = {value}超出模拟器所学习的范围（{allowed}）；不做外推：请点击“运行”",
    ),
    "preview_unset": ("not set", "未设定"),
    # results
    "key_numbers": ("Key indicators", "主要指标"),
    "targets": ("Plan targets", "规划目标"),
    "charts": ("Charts (hover for values; the shaded band is the 90% interval)", "图表（悬停查看数值；阴影为90%区间）"),
    "downloads": ("Downloads", "下载"),
    "making": ("Making {what}: the other downloads wait for it", "正在生成{what}：其他下载请稍候"),
    "chart_files": ("Charts", "图表"),
    "report_files": ("Report", "报告"),
    "table_files": (
        "Tables (mean and 5th, 25th, 50th, 75th, 95th percentiles by year)",
        "数据表（各年均值及第5、25、50、75、95百分位数）",
    ),
    "scenario_file": ("Scenario YAML", "情景YAML"),
    "add_compare": ("Add to the comparison", "加入比较"),
    "compare_full": ("The comparison holds at most {n} scenarios and the baseline", "比较最多包含{n}个情景和基线"),
    "no_results": ("No results yet: pick a scenario and press Run", "暂无结果：请选择情景并点击“运行”"),
    "one_replicate": (
        "One replicate: no interval (set replicates above 1 for the 90% band)",
        "仅一次重复：无区间（重复次数大于1时显示90%区间）",
    ),
    # "+N": a lever stepped on the results page
    "steps_heading": ("What a step of one lever changes (+N)", "逐级调整一项政策的影响（+N）"),
    "steps_help": (
        "The plan run again with the lever raised or lowered by each step (+10% or +5000 in the lever's unit, "
        "comma-separated), with the same random draws as the plan: the change in every target and its P(met), "
        "and in the plan's cost.",
        "以相同的随机抽样重新运行规划，并将该政策逐级上调或下调（+10%，或按该政策单位 +5000，以逗号分隔）："
        "各目标及其达标概率的变化，以及规划成本的变化。",
    ),
    "steps_lever": ("Lever", "政策"),
    "steps_by": ("Steps", "调整幅度"),
    "steps_run": ("Run the steps", "运行逐级调整"),
    "steps_none": ("steps: give at least one, e.g. +10%, +20%, +30%", "调整幅度：至少给出一项，例如 +10%, +20%, +30%"),
    "steps_bad": (
        "step = {step}: a step is +N or +N%, not zero (e.g. +10%, -5%, +5000)",
        "调整幅度 = {step}：应为 +N 或 +N%，且不为零（如 +10%、-5%、+5000）",
    ),
    "steps_many": (
        "steps: {n} given; at most {most} here (more with `sim steps`)",
        "调整幅度：给出{n}项；此处最多{most}项（更多请用 sim steps）",
    ),
    "steps_replicates": (
        "replicates = {n}: steps need at least {least} (set them under Run settings)",
        "重复次数 = {n}：逐级调整至少需要{least}次（在“运行设置”中修改）",
    ),
    "steps_range": ("step = {step}: {lever} would leave its allowed range", "调整幅度 = {step}：{lever}将超出允许范围"),
    "steps_running": (
        "Running the plan and its steps: {done} of {total} runs",
        "正在运行规划及各级调整：已完成{done}/{total}次",
    ),
    # find a plan: the search for the cheapest plan meeting the scenario's targets
    "plan_pick": ("Pick a scenario on the Scenario page first", "请先在“情景”页选择情景"),
    "plan_no_targets": (
        "{name} has no targets: add plan targets on the Scenario page to search for a plan that meets them",
        "{name}没有规划目标：请先在“情景”页添加规划目标，再寻找达到目标的方案",
    ),
    "plan_help": (
        "Searches the levers that move the scenario's targets (NSGA-II, every plan on the same random draws) for "
        "the plans that meet every target with a probability of at least {p:.0%} at the least cost, and re-runs the "
        "best of them on fresh draws. The scenario is cut at {year} and run at {scale:g} persons per agent.",
        "对影响情景目标的各项政策进行搜索（NSGA-II，各方案使用相同的随机抽样），找出以不低于{p:.0%}的概率达到"
        "全部目标且成本最低的方案，并以新的随机抽样重新运行其中最优者进行验证。情景截至{year}年，"
        "每个主体代表{scale:g}人。",
    ),
    "plan_levers": ("Levers searched (each over its whole range)", "搜索的政策（各在其允许范围内）"),
    "plan_targets": ("Targets to meet", "须达到的目标"),
    "plan_objectives": ("Judged by", "评价标准"),
    "plan_budget": ("Budget", "计算量"),
    "plan_runs": ("{runs:,} model runs", "{runs}次模型运行"),
    "plan_run": ("Find a plan", "寻找方案"),
    "plan_running": ("Searching: {done:,} of at most {total:,} runs", "搜索中：已完成{done}次，最多{total}次运行"),
    "plan_stopping": (
        "Stopping: the runs under way finish first, and are kept",
        "正在停止：进行中的运行完成后停止，结果予以保留",
    ),
    "plan_cancelled": (
        "Cancelled: the runs done are kept; the same search asked again goes on from them",
        "已取消：已完成的运行已保存；再次进行同一搜索时将从中继续",
    ),
    "plan_failed": ("The search failed: {error}", "搜索失败：{error}"),
    "plan_stored": (
        "Stored search of this exact problem (same code and data)",
        "此问题的已存搜索结果（代码与数据相同）",
    ),
    "plan_cheapest": ("The cheapest plan meeting every target: plan {plan}", "达到全部目标的最低成本方案：方案{plan}"),
    "plan_none_verified": (
        "No plan of the front kept P(met) on fresh runs: none is offered as a scenario",
        "前沿上的方案在新的运行中均未保持达标概率：不提供可打开的情景",
    ),
    "plan_open": ("Open as scenario", "作为情景打开"),
    # compare
    "compare_help": (
        "Add up to four scenarios from the Results tab; the first is the baseline the others are compared with.",
        "在“结果”页加入最多四个情景；第一个为基线，其余与之比较。",
    ),
    "baseline": ("Baseline", "基线"),
    "make_baseline": ("Make baseline", "设为基线"),
    "differences": (
        "Differences from the baseline at the target years and the horizon",
        "与基线在目标年份和末年的差异",
    ),
    "compare_empty": ("Nothing to compare yet", "暂无可比较的情景"),
    # explain
    "explain_model": ("The model", "模型"),
    "explain_data": ("Data sources", "数据来源"),
    "explain_calibration": ("Calibrated and assumed", "校准与假设"),
    "explain_limitations": ("Limitations", "局限性"),
}


def t(key: str, lang: str, **values) -> str:
    en, zh = TEXTS[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def lever_label(key: str, lang: str) -> str:
    """A field's label: a lever's from the lever catalogue, a run setting's from these texts."""
    from sim.catalogues.levers import lever_catalogue

    levers = lever_catalogue()
    return levers[key].label(lang) if key in levers else t(f"field_{key}", lang)


def choice_label(key: str, value: str, lang: str) -> str:
    from sim.catalogues.levers import lever_catalogue

    return lever_catalogue()[key].choices[value][lang]
