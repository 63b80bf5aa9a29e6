"""Golden vectors for @stratreg/market's scanner features, computed directly with numpy.

Each feature is computed from its definition, window by window, with numpy's median, corrcoef,
mean and std, and none of the sliding updates the TypeScript uses: robust z-scores (median and
MAD of the values before each one), lead-lag cross-correlations, rolling correlation, the
spread's z-score and the return profile by hour and weekday. Run `python3 features.py` to
rewrite features.json next to it.
"""

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

MAD_SCALE = 1.482602218505602
MEAN_AD_SCALE = 1.2533141373155003
HOUR_MS = 3_600_000


def robust_z(values, window, min_history):
    out = []
    history = []
    for x in values:
        if not np.isfinite(x):
            out.append(None)
            continue
        z = None
        if len(history) >= min_history:
            w = np.array(history[-window:])
            med = np.median(w)
            scale = MAD_SCALE * np.median(np.abs(w - med))
            if not scale > 0:
                scale = MEAN_AD_SCALE * np.mean(np.abs(w - med))
            if scale > 0:
                z = float((x - med) / scale)
        out.append(z)
        history.append(x)
    return out


def lead_lag(a, b, max_lag):
    n = len(a)
    out = []
    for lag in range(-max_lag, max_lag + 1):
        lo, hi = max(0, -lag), min(n, n - lag)
        out.append(float(np.corrcoef(a[lo:hi], b[lo + lag:hi + lag])[0, 1]))
    return out


def rolling_corr(a, b, window):
    return [None if i < window - 1 else float(np.corrcoef(a[i - window + 1:i + 1], b[i - window + 1:i + 1])[0, 1])
            for i in range(len(a))]


def spread_z(a, b, window, beta):
    s = np.log(a) - beta * np.log(b)
    out = []
    for i in range(len(s)):
        if i < window - 1:
            out.append(None)
            continue
        w = s[i - window + 1:i + 1]
        out.append(float((s[i] - w.mean()) / w.std(ddof=1)))
    return out


def profile(times, close, key, size):
    r = close[1:] / close[:-1] - 1
    buckets = np.array([key(datetime.fromtimestamp(t / 1000, tz=timezone.utc)) for t in times[1:]])
    count, mean, sd, t_stat = [], [], [], []
    for k in range(size):
        x = r[buckets == k]
        count.append(int(len(x)))
        mean.append(float(x.mean()) if len(x) else None)
        sd.append(float(x.std(ddof=1)) if len(x) >= 2 else None)
        t_stat.append(float(x.mean() / x.std(ddof=1) * np.sqrt(len(x))) if len(x) >= 2 else None)
    return dict(count=count, mean=mean, sd=sd, tStat=t_stat)


def main():
    rng = np.random.default_rng(20240612)
    n = 400
    # b follows a two bars later; a spike in a, a stretch of equal values (MAD 0), a gap (NaN).
    a = rng.normal(0, 0.01, n)
    b = 0.4 * np.concatenate([[0, 0], a[:-2]]) + rng.normal(0, 0.01, n)
    a[150] = 0.12
    a[200:240] = 0.001
    a[300] = np.nan
    values = a.copy()
    # Hourly bars, seven a day from 14:00 UTC on weekdays, starting Monday 2024-01-01.
    times = []
    day = int(datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
    while len(times) < n:
        if datetime.fromtimestamp(day / 1000, tz=timezone.utc).weekday() < 5:
            times.extend(day + (14 + h) * HOUR_MS for h in range(7))
        day += 24 * HOUR_MS
    times = times[:n]
    ra = np.nan_to_num(a, nan=0.0)
    close_a = 100 * np.cumprod(1 + ra)
    close_b = 50 * np.cumprod(1 + b)
    out = dict(
        values=[None if not np.isfinite(x) else float(x) for x in values],
        robust=dict(window=60, minHistory=20, z=robust_z(values, 60, 20)),
        robustExpanding=dict(minHistory=20, z=robust_z(values, 10**9, 20)),
        returnsA=ra.tolist(),
        returnsB=b.tolist(),
        leadLag=dict(maxLag=4, correlations=lead_lag(ra, b, 4)),
        rollingCorrelation=dict(window=50, values=rolling_corr(ra, b, 50)),
        times=times,
        closeA=close_a.tolist(),
        closeB=close_b.tolist(),
        spreadZ=dict(window=30, hedgeRatio=0.8, values=spread_z(close_a, close_b, 30, 0.8)),
        # Python's weekday() is Monday = 0; the TypeScript counts from Sunday = 0, as Date does.
        byHour=profile(times, close_b, lambda d: d.hour, 24),
        byWeekday=profile(times, close_b, lambda d: (d.weekday() + 1) % 7, 7),
    )
    path = Path(__file__).with_name("features.json")
    path.write_text(json.dumps(out) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
