"""Write notebooks/07_fair_comparison.ipynb (run by hand after editing; the notebook is what is committed)."""
from nbgen import code, md, write

cells = [
    md("# A fair optimizer comparison, at toy scale\n\n"
       "The optimizer zoos' pictures are not comparisons. torch-optimizer tunes the learning rate only "
       "(jettify/pytorch-optimizer #71: *\"only LR is grid searched\"*), tunes for 100 steps and plots 500 "
       "(#219: *\"would favor optimizers that have fast convergence in the first few updates\"*); "
       "pytorch_optimizer gives each optimizer `600 x (number of tuned parameters)` trials and plots at a "
       "different horizon from the one it tuned at; both clip gradients to norm 1 without saying so, run "
       "one seed, and their pictures change between regenerations (kozistr/pytorch_optimizer PRs #345, "
       "#416).\n\n"
       "This notebook does it the way AlgoPerf's external-tuning ruleset does, on toy problems:\n\n"
       "* a **suite** of problems (noiseless and noisy), each with a **success target** $f - f^* \\le$ tol, "
       "and the cost of a run is its **steps to target** (AlgoPerf's time-to-result);\n"
       "* four **protocols** with the **same budget for every rule**: paper defaults; the learning rate "
       "on a log grid; learning rate and betas by a seeded quasi-random (Halton) search; AlgoPerf's "
       "$K$ trials $\\times$ $S$ studies, scored by the median of each study's best;\n"
       "* every trial on **several noise seeds** (median over seeds), hyperparameters chosen at the "
       "**horizon that is reported**, no gradient clipping;\n"
       "* rankings from **performance profiles** $\\rho_s(\\tau)$ (Dolan & Moré 2002), at **two horizons**.\n\n"
       "It is also a regression test: `make test` runs it with small parameters and compares what it "
       "records with `data/baselines/07_fair_comparison.json`."),
    code("# Parameters (papermill overrides these in the regression test)\n"
         "short = 300             # the two horizons (steps per run)\n"
         "long = 3000\n"
         "n_trials = 15           # trials per rule and problem for the lr grid and the random search\n"
         "K = 5                   # AlgoPerf: K trials in each of S studies\n"
         "S = 3\n"
         "n_seeds = 5             # noise seeds per trial on the noisy problems\n"
         "search_seed = 0         # the quasi-random search's seed",
         metadata={"tags": ["parameters"]}),
    code("%matplotlib inline\n"
         "import time\n"
         "from concurrent.futures import ThreadPoolExecutor\n"
         "\n"
         "import matplotlib.pyplot as plt\n"
         "import pandas as pd\n"
         "\n"
         "import labkit as lk\n"
         "from labkit.compare import Task, algoperf, compare, defaults, flips, lr_grid, random_search\n"
         "\n"
         "pd.set_option(\"display.width\", 200)"),
    md("## The suite, the rules, the protocols\n\n"
       "Four noiseless problems with the target $f - f^* \\le 10^{-6}$ and two noisy ones (Gaussian "
       "gradient noise) whose targets sit above the noise floor of a reasonable step. Six rules, each "
       "exactly as `lk.optim` implements it (torch's or the paper's defaults; SGD with heavy-ball "
       "momentum 0.9 as its \"default\"). The searches tune the learning rate on $[10^{-4}, 1]$ (log) and, "
       "for the random search and AlgoPerf, the rule's betas on $1-\\beta$ log scales "
       "(`labkit.compare.SPACE`): Adam-like rules tune $\\beta_1, \\beta_2$, SGD its momentum, RMSprop "
       "its $\\alpha$, Signum its momentum, Lion $\\beta_1, \\beta_2$. Every rule sees the same quasi-random "
       "points, so rule A and rule B try the same learning rates."),
    code("suite = [\"rosenbrock\", (\"quadratic\", {\"eigs\": (1.0, 100.0)}), \"beale\", \"himmelblau\",\n"
         "         Task(\"quadratic\", {\"eigs\": (1.0, 10.0)}, noise=0.3, tol=1e-2),\n"
         "         Task(\"rosenbrock\", noise=1.0, tol=1e-1)]\n"
         "rules = [\"adam\", lk.optim.sgd(momentum=0.9), \"rmsprop\", \"lion\", \"signum\", \"adabelief\"]\n"
         "protocols = [defaults(), lr_grid(n_trials), random_search(n_trials, seed=search_seed),\n"
         "             algoperf(K, S, seed=search_seed)]\n"
         "seeds = tuple(range(n_seeds))\n"
         "for p in protocols:\n"
         "    print(f\"{p.name:20s} {p.budget:3d} trials per rule and problem\")"),
    md("## The study\n\n"
       "One call: every protocol, every rule, every problem, both horizons. Each trial is a "
       "`lk.sweep` over its noise seeds (trials that differ only in the learning rate share one sweep)."),
    code("t0 = time.perf_counter()\n"
         "study = compare(suite, rules, protocols, horizon=(short, long), seeds=seeds, tol=1e-6)\n"
         "wall = time.perf_counter() - t0\n"
         "print(f\"{len(study.runs)} runs ({study.runs.groupby('horizon').size().to_dict()} per horizon) in {wall:.1f} s\")"),
    md("`study.table` has one row per (protocol, rule, problem, horizon): the trial the protocol "
       "selected, its hyperparameters, the median steps to target (`inf`: missed), the median final gap "
       "$f - f^*$, the fraction of seeds that reached the target, and what it cost. Steps to target "
       "counts the *first* time the target is met (as AlgoPerf does); the final gap says whether the run "
       "stayed there."),
    code("cols = [\"rule\", \"problem\", \"lr\", \"b1\", \"b2\", \"momentum\", \"alpha\", \"steps_to_target\", \"gap\",\n"
         "        \"success\", \"budget_runs\", \"budget_steps\"]\n"
         "study.select(protocols[-1].name, long)[cols].round(4)"),
    md("## Budgets\n\n"
       "Equal per rule under each protocol, counted in runs and in steps (a noisy problem's trial "
       "runs once per seed; a noiseless problem from its fixed start runs once, since more seeds "
       "would repeat it bit for bit)."),
    code("budget = study.table.query(\"horizon == @long\").groupby([\"protocol\", \"rule\"], sort=False)[\n"
         "    [\"budget_runs\", \"budget_steps\"]].sum().unstack(\"rule\")\n"
         "equal = bool((budget[\"budget_runs\"].nunique(axis=1) == 1).all() and (budget[\"budget_steps\"].nunique(axis=1) == 1).all())\n"
         "assert equal, \"every rule gets the same budget under a protocol\"\n"
         "lk.record(\"budgets_equal_per_rule\", equal)\n"
         "budget[\"budget_runs\"]"),
    md("## Rankings, per protocol and horizon\n\n"
       "A rule's score is the area under its performance profile over $\\tau \\in [1, 4]$ (log scale), as "
       "AlgoPerf integrates it; ties (rules that solve nothing) go to the smaller median final gap."),
    code("rank = {p.name: {\"short\": study.ranking(p.name, short), \"long\": study.ranking(p.name, long)} for p in protocols}\n"
         "for name, r in rank.items():\n"
         "    print(f\"{name:18s} {short:>5d} steps: {' > '.join(r['short'])}\")\n"
         "    print(f\"{'':18s} {long:>5d} steps: {' > '.join(r['long'])}\")\n"
         "lk.record(\"ranking\", rank)"),
    md("### Does the ranking flip with the horizon?\n\n"
       "A flip is a pair of rules whose order reverses between the short and the long horizon, "
       "under the same protocol (\"Fantastic pretraining optimizers\": rankings change with the "
       "horizon and with how well each rule is tuned)."),
    code("horizon_flips = {name: flips(r[\"short\"], r[\"long\"]) for name, r in rank.items()}\n"
         "for name, f in horizon_flips.items():\n"
         "    print(f\"{name:18s} \" + (\"; \".join(f\"{a} above {b} at {short} steps, below at {long}\" for a, b in f)\n"
         "                             if f else \"no flip between the horizons\"))\n"
         "n_flips = sum(len(f) for f in horizon_flips.values())\n"
         "print(f\"\\n{n_flips} flipped pair(s) in all\" if n_flips else \"\\nNo ranking flips with the horizon in this study.\")\n"
         "lk.record(\"horizon_flips\", {k: [list(p) for p in v] for k, v in horizon_flips.items()})"),
    md("And between protocols, at the long horizon: how much of a ranking is the tuning?"),
    code("base = rank[protocols[-1].name][\"long\"]\n"
         "for p in protocols[:-1]:\n"
         "    f = flips(rank[p.name][\"long\"], base)\n"
         "    print(f\"{p.name:18s} vs {protocols[-1].name}: \" + (\", \".join(f\"{a}/{b}\" for a, b in f) or \"same order\"))"),
    md("## How many (rule, problem) pairs reach the target?"),
    code("success = {p.name: {\"short\": study.success_fraction(p.name, short), \"long\": study.success_fraction(p.name, long)}\n"
         "           for p in protocols}\n"
         "print(pd.DataFrame(success).T.round(3))\n"
         "assert success[\"defaults\"][\"long\"] <= min(success[p.name][\"long\"] for p in protocols[1:]), \\\n"
         "    \"untuned defaults solve the fewest\"\n"
         "lk.record(\"success_fraction\", success)"),
    md("The success matrix for AlgoPerf's protocol at both horizons: grey level is the fraction of seeds "
       "that reached the target, the number under it the median steps to target. Every figure carries "
       "its protocol, budget, horizon and seeds."),
    code("fig, axes = lk.viz.subplots(2, 1, height=9)      # at most 8 in wide: readable projected\n"
         "for ax, h in zip(axes, (short, long)):\n"
         "    study.success_matrix(protocols[-1].name, h, ax=ax)"),
    md("## Performance profiles\n\n"
       "$\\rho_s(\\tau)$ is the fraction of problems on which rule $s$ reaches the target within $\\tau$ "
       "times the steps of the fastest rule; its value at $\\tau = 1$ counts wins, its height on the "
       "right counts problems solved at all."),
    code("fig, axes = lk.viz.subplots(2, 2, height=9)\n"
         "for ax, (p, h) in zip(axes.ravel(), [(protocols[1], short), (protocols[1], long),\n"
         "                                     (protocols[-1], short), (protocols[-1], long)]):\n"
         "    study.performance_profile(p.name, h, ax=ax)"),
    md("## The mistake, shown: tune at one horizon, report at another\n\n"
       "torch-optimizer tunes at 100 steps and plots 500. Here: choose each rule's hyperparameters at "
       "the short horizon, then run them for the long one. A rule that could not reach the target in the "
       "short run is tuned for the smallest short-run loss, which favours large steps; over the long run "
       "those stall at their own noise or lattice floor (sign methods move by $\\pm$lr) while a smaller "
       "step would have reached the target."),
    code("mistake = compare(suite, rules, protocols[1:], horizon=long, tune_horizon=short, seeds=seeds, tol=1e-6)\n"
         "rows = []\n"
         "for p in protocols[1:]:\n"
         "    fair, bad = study.select(p.name, long), mistake.select(p.name, long)\n"
         "    lost = fair.solved.to_numpy() & ~bad.solved.to_numpy()\n"
         "    rows.append({\"protocol\": p.name, \"tuned at the reported horizon\": study.success_fraction(p.name, long),\n"
         "                 f\"tuned at {short}, reported at {long}\": mistake.success_fraction(p.name),\n"
         "                 \"pairs lost\": \", \".join(f\"{r} on {q}\" for r, q in zip(bad.rule[lost], bad.problem[lost]))})\n"
         "mistake_table = pd.DataFrame(rows).set_index(\"protocol\")\n"
         "display(mistake_table)\n"
         "assert all(mistake.success_fraction(p.name) <= study.success_fraction(p.name, long) for p in protocols[1:])\n"
         "lk.record(\"mistake_success_fraction\", {p.name: mistake.success_fraction(p.name) for p in protocols[1:]})\n"
         "lk.record(\"mistake_ranking\", {p.name: mistake.ranking(p.name) for p in protocols[1:]})"),
    code("study.success_matrix(protocols[1].name, long)\n"
         "mistake.success_matrix(protocols[1].name, long);"),
    md("## Scale-out\n\n"
       "The unit of work is one (protocol, rule, problem, horizon) batch, a module-level function of "
       "plain arguments, so any `concurrent.futures`-style executor runs the study and gives the same "
       "table. To move a study to a cluster, pass a `dask.distributed.Client`:\n\n"
       "```python\n"
       "from dask.distributed import Client, LocalCluster\n"
       "cluster = LocalCluster(n_workers=2, threads_per_worker=1)      # or Client(\"tcp://scheduler:8786\")\n"
       "with Client(cluster) as client:\n"
       "    study = compare(suite, rules, protocols, horizon=(short, long), seeds=seeds, executor=client)\n"
       "cluster.close()\n"
       "```\n\n"
       "(`tests/test_compare_dask.py` does exactly this.) Here, a thread pool:"),
    code("with ThreadPoolExecutor(2) as pool:\n"
         "    via_pool = compare(suite, rules, protocols, horizon=(short, long), seeds=seeds, tol=1e-6, executor=pool)\n"
         "same = bool(via_pool.table.equals(study.table) and via_pool.runs.equals(study.runs))\n"
         "assert same\n"
         "lk.record(\"executor_same_table\", same)"),
    md("## What this notebook used"),
    code("lk.cite()"),
]
write(cells, "07_fair_comparison.ipynb")
