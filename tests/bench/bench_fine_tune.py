"""The book's two lines, `vision_learner(dls, arch, metrics=error_rate)` and `learn.fine_tune(2)`, before and after the
BatchNorm fix of issue #36, side by side in one process: "before" is EfficientNet-Lite0 with the same ImageNet weights and
timm's ordinary BatchNorm (each batch's statistics while training), "after" is `efficientnet_lite0` as exported (ImageNet's
statistics kept). On the demo digits (96 px) and, where ../shared has them, the 150 full-size bear photos (224 px); the
book's DataBlock (RandomSplitter(valid_pct=0.2, seed=42), aug_transforms), bs 64, seed 42. Not a timed test: it prints a table."""
import tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np

FULL = Path(__file__).resolve().parents[3]/'shared'/'datasets'/'bears-full'

def timm_batchnorm(pretrained:bool=True):
    "EfficientNet-Lite0 before the fix: the same weights, timm's BatchNormAct2d."
    from timm.layers import BatchNormAct2d
    from lesson2_lib.train import efficientnet_lite0, FrozenStatsBatchNorm
    model = efficientnet_lite0(pretrained)
    for m in model.modules():
        if type(m) is FrozenStatsBatchNorm: m.__class__ = BatchNormAct2d
    return model

def book(folder:Path, size:int, flip:bool, arch)->dict:
    "Accuracy, validation loss and seconds of each epoch of the book's fine_tune(2); with `arch` None, the head alone's accuracy."
    from fastai.vision.all import (DataBlock, ImageBlock, CategoryBlock, get_image_files, parent_label, RandomSplitter, Resize,
                                   aug_transforms, vision_learner, error_rate, set_seed, Callback)
    class Epochs(Callback):
        order = 60
        def before_epoch(self): self.start = time.time()
        def after_epoch(self):
            self.rows = getattr(self, 'rows', []) + [(1 - float(self.recorder.values[-1][2]), float(self.recorder.values[-1][1]), time.time() - self.start)]
    set_seed(42, reproducible=True)
    dls = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, get_y=parent_label,
                    splitter=RandomSplitter(valid_pct=0.2, seed=42), item_tfms=Resize(size),
                    batch_tfms=aug_transforms(do_flip=flip)).dataloaders(folder, bs=64, num_workers=0)
    if arch is None:   # the reference: the head alone, fitted on the frozen body's features (`fast_learner`)
        from lesson2_lib.train import fast_learner
        return float(fast_learner(dls, size, cache=Path(tempfile.mkdtemp()), progress=False).validate()[1])
    learn, log = vision_learner(dls, arch, metrics=error_rate), Epochs()
    with learn.no_bar(), learn.no_logging(): learn.fine_tune(2, cbs=log)
    acc, loss, sec = map(np.array, zip(*log.rows))
    return dict(acc=acc, loss=loss, sec=sec)

def main():
    from fastai.vision.all import model_meta
    from lesson2_lib.train import efficientnet_lite0
    from lesson2_lib.demo import demo_dataset
    from lesson2_lib.data import verify_images
    model_meta[timm_batchnorm] = model_meta[efficientnet_lite0]
    digits = Path(tempfile.mkdtemp())/'digits'
    demo_dataset(digits); verify_images(digits, progress=False)
    data = [('digits, 96 px', digits, 96, False)] + ([('bears-full, 224 px', FULL, 224, True)] if FULL.is_dir() else [])
    if not FULL.is_dir(): print(f'{FULL} is absent: the digits only')
    print(f"{'data':20} {'BatchNorm':16} {'accuracy per epoch (frozen, 1, 2)':36} {'valid loss per epoch':24} {'s/epoch':>8}")
    for name, folder, size, flip in data:
        runs = {label: book(folder, size, flip, arch) for label, arch in (('timm (before)', timm_batchnorm), ('kept (after)', efficientnet_lite0))}
        for label, r in runs.items():
            print(f"{name:20} {label:16} {' '.join(f'{a:.3f}' for a in r['acc']):36} {' '.join(f'{v:.3f}' for v in r['loss']):24} {np.median(r['sec']):8.1f}")
        b, a = runs.values()
        print(f"{name:20} {'head alone':16} {book(folder, size, flip, None):.3f} (fast_learner: the accuracy to beat)")
        print(f"{name:20} after/before: final accuracy {a['acc'][-1] - b['acc'][-1]:+.3f}, seconds per epoch x{np.median(a['sec']) / np.median(b['sec']):.2f}")

if __name__ == '__main__': main()
