"""One training run's bookkeeping, shared by the image-model loop and the lifter loop: the output folder and
``--resume``, the log and its curves (``results.png``), ``last.pt`` / ``best.pt``, the learning-rate steps, the time
limit, mid-epoch saves and the stop decisions every DDP rank takes together. A loop builds its model, data and
losses, then drives the run:

    with TrainingRun(cfg) as run:                # holds the folder, refuses to overwrite a run, seeds torch
        run.begin(model, optimizer, scaler)      # loads the checkpoint being resumed, opens the log
        run.message(...); run.ready()            # what it trains on first; then the resume point and config.yaml
        for epoch, lr in run.epochs():
            for batch in ...:
                ...; run.check_finite(total, fix)
                if run.step_done(len(batch), {"loss": loss}, steps): break
            run.end_epoch(epoch, lr, validate, metric, label)
        return run.finish(metric)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import yaml

from mhp.config import TrainConfig
from mhp.config.resolve import config_dict
from mhp.errors import MhpError
from mhp.train import distributed
from mhp.train.checkpoint import TrainState, load_training, save_training
from mhp.train.curves import write_results_png
from mhp.train.log import CSV_FIELDS, RunLog, format_seconds
from mhp.util.fileio import acquire_lock, atomic_path, remove_stale_temps

LOCK = ".mhp-train.lock"
LONG_RUN_S = 2 * 3600  # a run longer than this without --time-limit-min is announced at its start
RUN_FILES = ("last.pt", "best.pt", "config.yaml", "log.csv", "results.png")  # written atomically, or trimmed on resume


def lr_at(epoch: int, cfg: TrainConfig) -> float:
    """Step decay: ``lr`` divided by ``lr_decay_factor`` at each of ``lr_decay_epochs`` (reference §7: 17, 21)."""
    return cfg.lr / cfg.lr_decay_factor ** sum(epoch >= e for e in cfg.lr_decay_epochs)


def resume_path(cfg: TrainConfig, out: Path) -> Path | None:
    if cfg.resume is None:
        if (out / "last.pt").exists():
            raise MhpError(f"{out} already holds a run (last.pt); pass --resume auto to continue it or another --out")
        return None
    path = out / "last.pt" if cfg.resume == "auto" else Path(cfg.resume)
    if cfg.resume == "auto" and not path.exists():
        return None
    if not path.is_file():
        raise MhpError(f"--resume {cfg.resume}: {path} not found; pass a checkpoint, or auto for {out / 'last.pt'}")
    return path


def write_config(path: Path, cfg: TrainConfig) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(config_dict(cfg), sort_keys=False))


class TrainingRun:
    """The state of one run on this process (see the module docstring for the order of calls)."""

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.runtime = distributed.start(cfg.device, cfg.dist_backend)
        self.out = Path(cfg.out)
        self.lock = None
        if self.runtime.is_main:  # one run per folder: a second one would interleave its log and config
            self.out.mkdir(parents=True, exist_ok=True)
            busy = f"another mhp-train is writing to {self.out}; wait for it to finish or choose another --out"
            self.lock = acquire_lock(self.out / LOCK, busy)
        try:
            self.start_from = resume_path(cfg, self.out)  # refuse to overwrite a run before touching its files
        except BaseException:
            self.__exit__()
            raise
        if self.runtime.is_main:
            remove_stale_temps(self.out, RUN_FILES)
        torch.manual_seed(cfg.seed)  # identical initial weights on every rank (DDP also broadcasts rank 0's)
        self.state = TrainState()
        self.stop_reason = ""
        self.config = config_dict(cfg)

    def __enter__(self) -> TrainingRun:
        return self

    def __exit__(self, kind: type | None = None, error: BaseException | None = None, trace: Any = None) -> None:
        if self.lock is not None:
            self.lock.close()
        if isinstance(error, torch.OutOfMemoryError) and self.device.type == "cuda":
            raise MhpError(self.out_of_memory()) from None

    def out_of_memory(self) -> str:
        """What ran out, how much the run held, and the fix (torch's own message is a page long)."""
        total = torch.cuda.get_device_properties(self.device).total_memory / 2**20
        peak = self.gpu_memory().get("gpu_peak_mib", 0.0)
        return (
            f"out of GPU memory on {self.device} ({total:,.0f} MiB) at --batch-size {self.cfg.batch_size} per process, "
            f"after its tensors had held {peak:,.0f} MiB; add --amp (29-47 % less memory; --resume auto continues "
            "from the last checkpoint), or start a new run with a lower --batch-size"
        )

    @property
    def device(self) -> torch.device:
        return self.runtime.device

    def begin(
        self, model, optimizer, scaler, *, fields: tuple[str, ...] = CSV_FIELDS, unit: str = "img", **extra: Any
    ) -> None:
        """The objects a checkpoint holds (``extra``: more state dicts, e.g. a critic); the state of the run being
        resumed is loaded into them. Opens the log with its CSV ``fields``; ``unit`` names a training sample."""
        self.model, self.optimizer, self.scaler, self.extra = model, optimizer, scaler, extra
        if self.start_from is not None:
            self.state = load_training(self.start_from, model, optimizer, scaler, **extra)
        self.log = RunLog(self.out, enabled=self.runtime.is_main, resume_step=self.state.global_step, fields=fields)
        self.unit, self.told_length, self.curves_failed = unit, False, False

    def message(self, text: str) -> None:
        self.log.message(text)

    def ready(self) -> None:
        """Once the loop has said what it trains on: the resume point, then ``config.yaml``."""
        if self.start_from is not None:
            self.message(f"resumed {self.start_from} at epoch {self.state.epoch + 1} step {self.state.step_in_epoch}")
        elif self.cfg.resume == "auto":  # "resume if there is a run": say which it was
            self.message(f"--resume auto: nothing to resume in {self.out} (no last.pt), so a new run starts")
        if self.runtime.is_main:
            write_config(self.out / "config.yaml", self.cfg)

    def save(self, name: str, chosen: str = "the latest") -> None:
        """Write ``name``; ``chosen`` says why this model was kept (recorded for ``mhp-eval``'s report)."""
        if self.runtime.is_main:
            state = self.state
            selection = {"file": name, "epochs": state.epoch, "steps_into_epoch": state.step_in_epoch, "chosen": chosen}
            save_training(
                self.out / name,
                self.model,
                self.optimizer,
                self.scaler,
                state,
                self.config,
                selection=selection,
                **self.extra,
            )

    def epochs(self) -> Iterator[tuple[int, float]]:
        """``(epoch, lr)`` for each epoch left, its learning rate set, until ``cfg.epochs`` or a stop. The run's
        clock (time limit, mid-epoch saves) starts here."""
        self.started = self.last_save = time.monotonic()
        while self.state.epoch < self.cfg.epochs and not self.stop_reason:
            epoch = self.state.epoch
            lr = lr_at(epoch, self.cfg)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            self.epoch, self.lr = epoch, lr
            self.window: dict[str, float] = {}
            self.window_start, self.window_steps, self.window_items = time.monotonic(), 0, 0
            yield epoch, lr

    def steps_per_epoch(self, samples: int) -> int:
        """Whole batches of this process's ``samples``, at most ``--max-steps-per-epoch``."""
        steps = samples // self.cfg.batch_size
        return min(steps, self.cfg.max_steps_per_epoch) if self.cfg.max_steps_per_epoch else steps

    def check_finite(self, total: torch.Tensor, fix: str) -> None:
        """Stop every rank together, with the checkpoint intact, once the loss is NaN or infinite anywhere."""
        if distributed.any_across(not torch.isfinite(total).item(), self.runtime):
            where = f"epoch {self.epoch + 1} step {self.state.step_in_epoch}"
            raise MhpError(
                f"loss became non-finite ({total.item()} here) at {where}; {fix} (the last checkpoint in {self.out} "
                "is intact)"
            )

    def step_done(self, items: int, terms: dict[str, torch.Tensor], steps: int) -> bool:
        """Count a finished step of ``items`` samples on this process and its loss ``terms`` (``loss`` among them,
        averaged over the ranks in the log); log the window, save mid-epoch when due. True: stop the epoch now."""
        state, cfg, runtime = self.state, self.cfg, self.runtime
        state.step_in_epoch += 1
        state.global_step += 1
        self.window_steps += 1
        self.window_items += items * runtime.world_size
        for key, value in terms.items():
            mean = distributed.mean_across(torch.as_tensor(value).detach().to(self.device), runtime)
            self.window[key] = self.window.get(key, 0.0) + float(mean)
        now = time.monotonic()
        if state.step_in_epoch % cfg.log_every == 0 or state.step_in_epoch == steps:
            rate = self.window_items / max(now - self.window_start, 1e-9)
            remaining = (steps - state.step_in_epoch + (cfg.epochs - self.epoch - 1) * steps) * cfg.batch_size
            means = {k: v / self.window_steps for k, v in self.window.items()}
            eta = remaining * runtime.world_size / rate
            self.log.progress(self.epoch, cfg.epochs, state.step_in_epoch, steps, means["loss"], rate, eta, self.unit)
            if not self.told_length and cfg.time_limit_min is None and eta > LONG_RUN_S:
                self.message(
                    f"note: at this speed the run ends in about {format_seconds(eta)} ({cfg.epochs} epochs); to try "
                    "things first: make quickstart (13 min), fewer --epochs or a --time-limit-min"
                )
            self.told_length = True
            rates = {"images_per_s" if self.unit == "img" else f"{self.unit}_per_s": rate}
            self.log.scalars(
                state.global_step,
                epoch=self.epoch + 1,
                step=state.global_step,
                lr=self.lr,
                **means,
                **rates,
                **self.gpu_memory(),
            )
            self.window, self.window_start, self.window_steps, self.window_items = {}, now, 0, 0
        if cfg.time_limit_min is not None and distributed.any_across(
            state.seconds + now - self.started >= cfg.time_limit_min * 60, runtime
        ):  # every rank stops at the same step
            self.stop_reason = f"time limit of {cfg.time_limit_min:g} min reached"
            return True
        if now - self.last_save >= cfg.save_every_min * 60 and state.step_in_epoch < steps:
            state.seconds += now - self.started
            self.started = self.last_save = now
            self.save("last.pt")
        return False

    def gpu_memory(self) -> dict[str, float]:
        """``gpu_peak_mib``: the most GPU memory this process's tensors have held so far (none on the CPU)."""
        if self.device.type != "cuda":
            return {}
        return {"gpu_peak_mib": round(torch.cuda.max_memory_allocated(self.device) / 2**20, 1)}

    def end_epoch(self, validate: Callable[[], dict[str, float]] | None, metric: str, label: str) -> None:
        """Validate (rank 0; ``validate`` gives mm scores by name), log, save ``last.pt`` and, when ``metric`` is
        the best so far, ``best.pt``. Without validation (None) ``best.pt`` is the latest model."""
        state, epoch = self.state, self.epoch
        if not self.stop_reason:
            state.epoch, state.step_in_epoch = epoch + 1, 0
        scores = validate() if validate is not None and self.runtime.is_main else {}
        distributed.barrier(self.runtime)
        state.seconds += time.monotonic() - self.started
        self.started = self.last_save = time.monotonic()
        val = scores.get(metric, float("nan"))
        shown = scores if validate is not None else {metric: val}
        val_scores = {f"val_{k}_mm": v for k, v in shown.items()}
        state.history.append({"epoch": epoch + 1, "lr": self.lr, **val_scores, "seconds": round(state.seconds, 1)})
        words = ", ".join(f"{k.upper().replace('_', '-')} {v:.1f} mm" for k, v in shown.items())
        self.message(f"epoch {epoch + 1}/{self.cfg.epochs}: val {words} ({label})")
        self.log.scalars(state.global_step, epoch=epoch + 1, step=state.global_step, lr=self.lr, **val_scores)
        is_best = validate is None or val < state.best_val
        if validate is not None and is_best:
            state.best_val = val
        self.save("last.pt")
        if is_best:
            why = f"lowest validation {metric.upper()} ({val:.1f} mm) on {label}" if validate else "no validation"
            self.save("best.pt", why)
        self.draw_curves()
        distributed.barrier(self.runtime)

    def draw_curves(self) -> None:
        """Rewrite ``results.png`` from ``log.csv`` (rank 0); a failure is told once and never stops the run."""
        if not self.runtime.is_main:
            return
        try:
            write_results_png(self.log.csv_path, self.out / "results.png", self.out.resolve().name)
        except Exception as exc:
            if not self.curves_failed:
                self.message(f"warning: results.png not written ({' '.join(str(exc).split())}); training goes on")
            self.curves_failed = True

    def finish(self, metric: str, notes: str = "", **extra: Any) -> dict[str, Any]:
        """The run summary (``extra`` added before ``stopped``), also logged as the last line; closes the run."""
        state = self.state
        summary = {
            "epochs": state.epoch,
            "train_seconds": round(state.seconds, 1),
            "best_val_metric": metric,
            f"best_val_{metric}_mm": state.best_val,
            "checkpoint": str(self.out / "best.pt"),
            "last": str(self.out / "last.pt"),
            **extra,
            **self.gpu_memory(),
            "stopped": self.stop_reason or "completed",
        }
        memory = f", peak GPU memory {summary['gpu_peak_mib']:.0f} MiB" if "gpu_peak_mib" in summary else ""
        self.message(
            f"done: {state.epoch} epoch(s) in {format_seconds(state.seconds)}, best val {metric.upper()} "
            f"{state.best_val:.1f} mm{notes}{memory}, {summary['stopped']} -> {summary['checkpoint']}"
        )
        self.log.close()
        distributed.stop(self.runtime)
        return summary
