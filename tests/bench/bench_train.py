"""Training time to accuracy: fastai's fine_tune(1) against lesson2_lib's fast path, side by side in one run.

Both use EfficientNet-Lite0 with the same ImageNet weights, the same DataBlock (valid_pct=0.2, seed=42, 224 px,
bs 32) on ../shared/datasets/bears. The fast path starts from an empty features cache, so its time includes
computing every feature. Not a timed test: it prints a table."""
import shutil, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
from fastai.callback.core import Callback
from fastai.vision.all import vision_learner, accuracy
from lesson2_lib.train import image_dls, efficientnet_lite0, fast_learner

BEARS = Path(__file__).resolve().parents[3]/'shared'/'datasets'/'bears'

class EpochClock(Callback):
    "Wall time and validation accuracy at the end of every epoch (after the Recorder has logged it)."
    order = 70
    def before_fit(self): self.start, self.marks = getattr(self, 'start', time.time()), getattr(self, 'marks', [])
    def after_epoch(self): self.marks.append((time.time() - self.start, float(self.recorder.values[-1][-1])))

def main():
    if not BEARS.is_dir(): print(f'skipped: {BEARS} is absent (it exists only beside the development checkout)'); return
    cache = Path(tempfile.mkdtemp())
    try:
        dls = image_dls(BEARS, size=224, bs=32)
        clock = EpochClock(); clock.start = time.time()
        learn = vision_learner(dls, efficientnet_lite0, metrics=accuracy)
        with learn.no_bar(), learn.no_logging(): learn.fine_tune(1, cbs=clock)
        fa_total = time.time() - clock.start
        start = time.time()
        fast = fast_learner(image_dls(BEARS, size=224, bs=32), 224, cache=cache, progress=False)
        acc = fast.validate()[1]
        ours = time.time() - start
        start = time.time()
        warm = fast_learner(image_dls(BEARS, size=224, bs=32), 224, cache=cache, progress=False).validate()[1]
        warm_s = time.time() - start
        print(f'bears: {len(dls.train_ds)} training / {len(dls.valid_ds)} validation pictures, 224 px, EfficientNet-Lite0\n')
        print(f'{"":44} {"seconds":>8} {"valid accuracy":>15}')
        for i, (t, a) in enumerate(clock.marks):
            print(f'{"fastai fine_tune(1), after " + ("frozen epoch" if i == 0 else "unfrozen epoch"):44} {t:8.1f} {a:15.2%}')
        print(f'{"lesson2_lib fast path (cold features cache)":44} {ours:8.1f} {acc:15.2%}')
        print(f'{"lesson2_lib fast path (warm features cache)":44} {warm_s:8.1f} {warm:15.2%}')
        print(f'\nwall-time ratio, fastai fine_tune(1) / fast path (cold): {fa_total / ours:.1f}x')
    finally: shutil.rmtree(cache, ignore_errors=True)

if __name__ == '__main__': main()
