#!/usr/bin/env bash
# Trains every preset, one after the other, into runs/<name>/.
# Safe to re-run after any interruption: a finished run is skipped, an
# unfinished one resumes from its last epoch (BackupAndRestore).
# Usage: bash tools/train_presets.sh [NAME ...]   (data: $GANZOO_DATA_DIR,
# default ../shared/data beside the repository)
# Then: python -m tools.results promote runs/NAME NAME --description=...
# (with --seed_runs=runs/NAME-s1,runs/NAME-s2, the same recipe's seeds 1 and
# 2, which SEEDS=1,2 trains: the card's recipe spread; for a preset already
# shipped, python -m tools.results spread NAME --seed_runs=... adds it)
# (gan-mnist and lsgan-fashion-mnist with --ship=generator: the wheel ships
# their generators only).
# (lsgan-mnist with --recalibrate_bn=100: its batch-norm statistics are
# re-estimated for the averaged weights).
set -uo pipefail
cd "$(dirname "$0")/.."
SEEDS="${SEEDS:-0}"
export GANZOO_DATA_DIR="${GANZOO_DATA_DIR:-$(cd .. && pwd)/shared/data}"

declare -A RECIPE=(
  [gan-ring8]="--model=gan --network=toy --dataset=ring8 --width=2 --batch_size=256 --steps_per_epoch=500 --epochs=20 --d_lr=1e-3 --g_lr=1e-3 --lr_decay=linear"
  [lsgan-ring8]="--model=lsgan --coding=real_label --network=toy --dataset=ring8 --width=2 --batch_size=256 --steps_per_epoch=500 --epochs=20 --d_lr=1e-3 --g_lr=1e-3 --lr_decay=linear"
  # The 25-mode grid: 80 epochs, chosen over 40 on validation samples.
  [gan-grid25]="--model=gan --network=toy --dataset=grid25 --width=2 --batch_size=256 --steps_per_epoch=500 --epochs=80 --d_lr=1e-3 --g_lr=1e-3 --lr_decay=linear"
  # LSGAN: 160 epochs, chosen over 80 (24/25) and width 4 at 80 epochs on
  # validation samples (25/25 at 97.7% vs 96.4% high quality).
  [lsgan-grid25]="--model=lsgan --coding=real_label --network=toy --dataset=grid25 --width=2 --batch_size=256 --steps_per_epoch=500 --epochs=160 --d_lr=1e-3 --g_lr=1e-3 --lr_decay=linear"
  [deligan-grid25]="--model=deligan --num_components=50 --network=toy --dataset=grid25 --width=2 --batch_size=256 --steps_per_epoch=500 --epochs=80 --d_lr=1e-3 --g_lr=1e-3 --lr_decay=linear"
  [deligan-ring8]="--model=deligan --num_components=50 --network=toy --dataset=ring8 --width=2 --batch_size=256 --steps_per_epoch=500 --epochs=20 --d_lr=1e-3 --g_lr=1e-3 --lr_decay=linear"
  # DiffAugment on D's inputs lets the 500-image run train 150 epochs
  # without D memorising the digits (zoo_weights/studies.md).
  [deligan-mnist]="--model=deligan --network=deligan_mnist --dataset=mnist --limit=500 --num_components=50 --batch_size=50 --steps_per_epoch=100 --epochs=150 --d_lr=1e-4 --g_lr=5e-4 --augment=translation,cutout --g_ema=0.999"
  [gan-mnist-phase1]="--model=gan --network=mnist_mlp --dataset=mnist --take=50000 --batch_size=100 --epochs=30"
  # Phase 2: the same, from phase 1's weights, learning rate decayed to 0.
  [gan-mnist-phase2]="--model=gan --network=mnist_mlp --dataset=mnist --take=50000 --batch_size=100 --epochs=10 --steps_per_epoch=500 --lr_decay=linear --init_from=runs/gan-mnist-phase1/preset"
  # Phases 3-6: back at 2e-4, with a moving average of G's weights.
  [gan-mnist-phase3]="--model=gan --network=mnist_mlp --dataset=mnist --take=50000 --batch_size=100 --epochs=10 --steps_per_epoch=500 --g_ema=0.999 --init_from=runs/gan-mnist-phase2/preset"
  [gan-mnist-phase4]="--model=gan --network=mnist_mlp --dataset=mnist --take=50000 --batch_size=100 --epochs=20 --steps_per_epoch=500 --g_ema=0.9999 --init_from=runs/gan-mnist-phase3/preset"
  [gan-mnist-phase5]="--model=gan --network=mnist_mlp --dataset=mnist --take=50000 --batch_size=100 --epochs=30 --steps_per_epoch=500 --g_ema=0.9999 --init_from=runs/gan-mnist-phase4/preset"
  [gan-mnist-phase6]="--model=gan --network=mnist_mlp --dataset=mnist --take=50000 --batch_size=100 --epochs=40 --steps_per_epoch=500 --g_ema=0.9999 --init_from=runs/gan-mnist-phase5/preset"
  # Phases 7-9: a longer average, 0.99995 (the ninth, the eighth again,
  # chosen on validation in sessions 23-24: see gan-mnist-cand-phase9).
  [gan-mnist-phase7]="--model=gan --network=mnist_mlp --dataset=mnist --take=50000 --batch_size=100 --epochs=60 --steps_per_epoch=500 --g_ema=0.99995 --init_from=runs/gan-mnist-phase6/preset"
  [gan-mnist-phase8]="--model=gan --network=mnist_mlp --dataset=mnist --take=50000 --batch_size=100 --epochs=80 --steps_per_epoch=500 --g_ema=0.99995 --init_from=runs/gan-mnist-phase7/preset"
  [gan-mnist]="--model=gan --network=mnist_mlp --dataset=mnist --take=50000 --batch_size=100 --epochs=80 --steps_per_epoch=500 --g_ema=0.99995 --init_from=runs/gan-mnist-phase8/preset"
  [lsgan-mnist-phase1]="--model=lsgan --network=deligan_mnist --dataset=mnist --batch_size=64 --epochs=20 --steps_per_epoch=937 --lr_decay=linear --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.999"
  [lsgan-mnist-phase2]="--model=lsgan --network=deligan_mnist --dataset=mnist --batch_size=64 --epochs=20 --steps_per_epoch=937 --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.9999 --init_from=runs/lsgan-mnist-phase1/preset"
  [lsgan-mnist]="--model=lsgan --network=deligan_mnist --dataset=mnist --batch_size=64 --epochs=20 --steps_per_epoch=937 --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.9999 --init_from=runs/lsgan-mnist-phase2/preset"
  # Fashion-MNIST: deligan-mnist's recipe on 500 images (the last 50 of each
  # class) with the nets at width 2 (32-128 filters), chosen over width 1 on
  # train[:10000], keeping the run every 25 epochs to check the epoch there;
  # LSGAN: one phase of 80 epochs on train[:50000] with the nets at width 3
  # (48-192 filters), chosen on train[50000:] over width 1's and width 2's
  # three phases and width 3's phase of 20 and 40 epochs (trained as
  # lsgan-fashion-mnist-cand-w3-e80; the card's selection).
  [deligan-fashion-mnist]="--model=deligan --network=deligan_mnist --dataset=fashion_mnist --limit=500 --num_components=50 --batch_size=50 --steps_per_epoch=100 --epochs=150 --d_lr=1e-4 --g_lr=5e-4 --augment=translation,cutout --g_ema=0.999 --width=2 --snapshot_every=25"
  [lsgan-fashion-mnist]="--model=lsgan --network=deligan_mnist --dataset=fashion_mnist --take=50000 --width=3 --batch_size=64 --epochs=80 --steps_per_epoch=781 --lr_decay=linear --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.999"
  # Candidates (issue 16), not presets: trained by name, then compared by
  # python -m tools.results validate runs/NAME --reference="train[50000:]",
  # which records them in benchmarks/results/validation.json. lsgan-mnist's
  # phase 1 on train[:50000] with its own nets and with the dcgan_mnist pair
  # (8.35 / FD 10.7 and 6.92 / FD 37.0 on train[50000:]).
  [lsgan-mnist-cand-deligan_mnist-p1]="--model=lsgan --network=deligan_mnist --dataset=mnist --take=50000 --batch_size=64 --epochs=20 --steps_per_epoch=781 --lr_decay=linear --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.999"
  [lsgan-mnist-cand-dcgan_mnist-p1]="--model=lsgan --network=dcgan_mnist --dataset=mnist --take=50000 --batch_size=64 --epochs=20 --steps_per_epoch=781 --lr_decay=linear --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.999"
  # deligan-mnist's recipe with a longer average (0.9999), and over 300
  # epochs with the learning rates decayed linearly to 0 (the card lists
  # these and the variants tried before); validated on train[:10000] (the
  # 500 images are the last 50 of each class).
  [deligan-mnist-cand-ema9999]="--model=deligan --network=deligan_mnist --dataset=mnist --limit=500 --num_components=50 --batch_size=50 --steps_per_epoch=100 --epochs=150 --d_lr=1e-4 --g_lr=5e-4 --augment=translation,cutout --g_ema=0.9999"
  [deligan-mnist-cand-e300-ld]="--model=deligan --network=deligan_mnist --dataset=mnist --limit=500 --num_components=50 --batch_size=50 --steps_per_epoch=100 --epochs=300 --d_lr=1e-4 --g_lr=5e-4 --augment=translation,cutout --g_ema=0.999 --lr_decay=linear"
)
# deligan-mnist's recipe keeping the run every 10 epochs, to choose the
# epoch on train[:10000] (python -m tools.results validate RUN/snapshots/*).
RECIPE[deligan-mnist-cand-snap10]="${RECIPE[deligan-mnist]} --snapshot_every=10"
# lsgan-mnist's phase 1 on train[:50000] with its nets twice as wide (32,
# 64, 128 filters in G and D), against the candidate above (issue 16: its
# score stays near 8.9 over training seeds, its nets have 16-64 filters).
RECIPE[lsgan-mnist-cand-w2-p1]="${RECIPE[lsgan-mnist-cand-deligan_mnist-p1]} --width=2"
# Its phases 2 and 3 as lsgan-fashion-mnist-cand-w2's (20 epochs each at
# constant rates, average 0.9999), phase 3 keeping the run every 2 epochs to
# choose the epoch on train[50000:55000] (validate RUN/snapshots/* RUN, then
# best).
RECIPE[lsgan-mnist-cand-w2-p2]="--model=lsgan --network=deligan_mnist --dataset=mnist --take=50000 --width=2 --batch_size=64 --epochs=20 --steps_per_epoch=781 --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.9999 --init_from=runs/lsgan-mnist-cand-w2-p1/preset"
RECIPE[lsgan-mnist-cand-w2]="--model=lsgan --network=deligan_mnist --dataset=mnist --take=50000 --width=2 --batch_size=64 --epochs=20 --steps_per_epoch=781 --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.9999 --init_from=runs/lsgan-mnist-cand-w2-p2/preset --snapshot_every=2"
# A fourth phase decaying both rates linearly to 0, average 0.999 (phase 1's
# schedule): phase 3 levelled off at 8.97 / FD 2.81 on train[55000:].
RECIPE[lsgan-mnist-cand-w2-p4]="${RECIPE[lsgan-mnist-cand-w2-p1]/--g_ema=0.999/--g_ema=0.999 --init_from=runs/lsgan-mnist-cand-w2/preset}"
# lsgan-fashion-mnist's three phases at width 1, its recipe until session 15
# (phases 1-3 scored 6.20 / FD 16.76, 6.48 / 14.29, 6.89 / 7.05 on
# train[50000:]).
RECIPE[lsgan-fashion-mnist-cand-w1-p1]="--model=lsgan --network=deligan_mnist --dataset=fashion_mnist --take=50000 --batch_size=64 --epochs=20 --steps_per_epoch=781 --lr_decay=linear --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.999"
RECIPE[lsgan-fashion-mnist-cand-w1-p2]="--model=lsgan --network=deligan_mnist --dataset=fashion_mnist --take=50000 --batch_size=64 --epochs=20 --steps_per_epoch=781 --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.9999 --init_from=runs/lsgan-fashion-mnist-cand-w1-p1/preset"
RECIPE[lsgan-fashion-mnist-cand-w1]="--model=lsgan --network=deligan_mnist --dataset=fashion_mnist --take=50000 --batch_size=64 --epochs=20 --steps_per_epoch=781 --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.9999 --init_from=runs/lsgan-fashion-mnist-cand-w1-p2/preset"
# ... at width 2 (32-128 filters), its recipe in sessions 15-16: phase 1
# 7.05 / FD 5.08 on train[50000:]; phase 3 kept the run every 2 epochs, the
# epoch chosen on train[50000:55000] (validate RUN/snapshots/* RUN, then
# best): epoch 4, 7.20 / FD 5.22 on train[55000:].
RECIPE[lsgan-fashion-mnist-cand-w2-p1]="--model=lsgan --network=deligan_mnist --dataset=fashion_mnist --take=50000 --width=2 --batch_size=64 --epochs=20 --steps_per_epoch=781 --lr_decay=linear --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.999"
RECIPE[lsgan-fashion-mnist-cand-w2-p2]="--model=lsgan --network=deligan_mnist --dataset=fashion_mnist --take=50000 --width=2 --batch_size=64 --epochs=20 --steps_per_epoch=781 --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.9999 --init_from=runs/lsgan-fashion-mnist-cand-w2-p1/preset"
RECIPE[lsgan-fashion-mnist-cand-w2]="--model=lsgan --network=deligan_mnist --dataset=fashion_mnist --take=50000 --width=2 --batch_size=64 --epochs=20 --steps_per_epoch=781 --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.9999 --init_from=runs/lsgan-fashion-mnist-cand-w2-p2/preset --snapshot_every=2"
# lsgan-mnist's phase 1 with deligan-mnist's DiffAugment (translation,
# cutout on D's inputs, real and fake): the 500-digit deligan-mnist recipe
# scores 9.32 over seeds where the full-data lsgan-mnist stays near 8.9.
RECIPE[lsgan-mnist-cand-aug-p1]="${RECIPE[lsgan-mnist-cand-deligan_mnist-p1]} --augment=translation,cutout"
# deligan-fashion-mnist's recipe until session 17, its nets at width 1
# (16-64 filters): on train[:10000] 7.05 / FD 5.27 against width 2's 7.41 /
# 2.44 (the shipped recipe, trained as deligan-fashion-mnist-cand-w2).
RECIPE[deligan-fashion-mnist-cand-w1]="${RECIPE[deligan-mnist]/--dataset=mnist/--dataset=fashion_mnist}"
# ... and at width 3 (48-192 filters): 7.23 / FD 2.46, smallest class 5.5%
# on train[:10000] (width 2: 7.41 / 2.44, 7.8%), not kept.
RECIPE[deligan-fashion-mnist-cand-w3]="${RECIPE[deligan-fashion-mnist]/--width=2/--width=3}"
# Session 18: lsgan-fashion-mnist's width-3 phase (then the preset, now
# lsgan-fashion-mnist-cand-w3-e20) followed by
# a phase at constant rates, average 0.9999 (width 2's phase 2), keeping the
# run every 2 epochs to choose the epoch on train[50000:55000] (every epoch
# 6.88-7.08 / FD 4.72-6.29 there against the preset's 7.24 / 2.49: not
# kept); and
# lsgan-mnist's phase 1 at width 3 (48-192 filters), the width that halved
# lsgan-fashion-mnist's FD: 8.97 / FD 2.67 on train[50000:] (width 2's
# phase 1 8.87 / 3.67).
RECIPE[lsgan-fashion-mnist-cand-w3-p2]="--model=lsgan --network=deligan_mnist --dataset=fashion_mnist --take=50000 --width=3 --batch_size=64 --epochs=20 --steps_per_epoch=781 --d_lr=1e-4 --g_lr=5e-4 --g_ema=0.9999 --init_from=runs/lsgan-fashion-mnist-cand-w3-e20/preset --snapshot_every=2"
RECIPE[lsgan-mnist-cand-w3-p1]="${RECIPE[lsgan-mnist-cand-deligan_mnist-p1]} --width=3"
# Session 19: the same with the paper's (0,1,1) coding (G aims D's output
# at the real label, not at the boundary 0), the sharper non-saturating
# pull that lets deligan-mnist reach 9.3-9.4; the coding had only been
# tried at equal rates (session 2), where D won. 8.97 / FD 2.61 on
# train[50000:], as the Pearson coding's 8.97 / 2.67: no lever.
RECIPE[lsgan-mnist-cand-w3-rl-p1]="${RECIPE[lsgan-mnist-cand-w3-p1]} --coding=real_label"
# lsgan-fashion-mnist's recipe of sessions 17-19, its width-3 phase over 20
# epochs (seeds 0-2: 7.24 / FD 2.71, 7.17 / 3.51, 7.24 / 3.06 on
# train[50000:]), and the same over 40 epochs with the same linear decay to
# 0, the recipe of sessions 20-21 (seeds 0-2: 7.38 / 1.05, 7.38 / 1.19,
# 7.43 / 1.10).
RECIPE[lsgan-fashion-mnist-cand-w3-e20]="${RECIPE[lsgan-fashion-mnist]/--epochs=80/--epochs=20}"
RECIPE[lsgan-fashion-mnist-cand-w3-e40]="${RECIPE[lsgan-fashion-mnist]/--epochs=80/--epochs=40}"
# Session 20: the same phase over 80 epochs. The 40-epoch preset's FD on
# test was 1.00, the target 0.81; 20 -> 40 epochs took it from 2.20.
# Session 21, seed 0: 7.48 / FD 0.63, smallest class 8.6% on train[50000:]
# (the 40-epoch recipe's seeds 7.38-7.43 / 1.05-1.19): its seeds 1-2 next
# (SEEDS=1,2, ~1 h each here). The rule, set in session 22 before seeds 1-2
# finished: adopted if its mean over training seeds 0-2 on train[50000:]
# has a lower FD and no lower score than the 40-epoch recipe's 7.397 /
# 1.112, with every seed's smallest class >= 5%. Seeds 1-2 (session 22):
# 7.45 / FD 0.72 and 7.48 / 0.69, mean over seeds 0-2 7.47 / 0.68: adopted,
# the recipe since session 22 (trained under this name and promoted as
# lsgan-fashion-mnist).
RECIPE[lsgan-fashion-mnist-cand-w3-e80]="${RECIPE[lsgan-fashion-mnist]}"
# deligan-mnist's recipe with D twice as slow (d_lr 5e-5): its D sees only
# 500 digits and is what overfits; the slower D is what lifted lsgan-mnist
# in session 2. Adopted (by the rule the card's selection states) only if
# its mean over training seeds 0-2 on train[:10000] has a lower FD and no
# lower score than the recipe's 9.31 / 2.60. Seeds 0-2: 9.35 / FD 3.26,
# 9.18 / 3.74, 9.15 / 3.26, mean 9.23 / 3.42: not adopted.
RECIPE[deligan-mnist-cand-dlr5e-5]="${RECIPE[deligan-mnist]/--d_lr=1e-4/--d_lr=5e-5}"
# Session 20: lsgan-mnist's width-3 phase 1 twice as long (40 epochs, the
# same linear decay to 0), the change that took lsgan-fashion-mnist's FD
# on train[50000:] from 2.71 to 1.05. Session 21: 9.04 / FD 2.36, smallest
# digit 8.9% on train[50000:] (31.7 min): a little better than 20 epochs,
# not the leap Fashion-MNIST took; the score stays near 9.0.
RECIPE[lsgan-mnist-cand-w3-e40]="${RECIPE[lsgan-mnist-cand-w3-p1]/--epochs=20/--epochs=40}"
# Session 21: deligan-mnist's recipe with a longer average that does not
# reach back to the first weights (0.9995: a window of ~2,000 of the 15,000
# steps, 0.9995^15000 = 6e-4 left on the start; 0.9999 kept 22% there, FD
# 59). To be adopted by the rule of cand-dlr5e-5 (over training seeds 0-2 on
# train[:10000], a lower mean FD and no lower mean score than the recipe's
# 9.31 / 2.60). Seeds 0-2: 9.17 / FD 3.38, 9.31 / 2.37, 9.47 / 2.89, mean
# 9.32 / 2.88 (about 6 min each): not adopted.
RECIPE[deligan-mnist-cand-ema9995]="${RECIPE[deligan-mnist]/--g_ema=0.999/--g_ema=0.9995}"
# lsgan-mnist's width-3 phase 1 with D at twice the rate (d_lr 2e-4, G
# still 5e-4): the shipped discriminator barely ranks G's unsure samples
# lower (studies.md), and D's slower rate was chosen at width 1 in session
# 1 (8 epochs); against cand-w3-p1's 8.97 / FD 2.67 on train[50000:].
# Session 21: 8.86 / FD 3.51, smallest digit 8.5% there: worse; D's mean
# outputs +-0.70 at the end (+-0.62 at 1e-4 over 40 epochs).
RECIPE[lsgan-mnist-cand-w3-dlr2e-4-p1]="${RECIPE[lsgan-mnist-cand-w3-p1]/--d_lr=1e-4/--d_lr=2e-4}"
# Session 22: lsgan-mnist's width-3 phase 1 against a discriminator with a
# hidden dense layer (network deligan_mnist_dense: the same G; D's three
# convs feed 16 * filters = 768 units before the minibatch layer). The plain
# D reads its 15x15-pixel features out linearly and barely ranks G's unsure
# digits lower (studies.md); against cand-w3-p1's 8.97 / FD 2.67 on
# train[50000:]. Session 22: 8.86 / FD 4.20, smallest digit 8.7% there
# (about 18 min): worse than the plain D's 8.97 / 2.67.
RECIPE[lsgan-mnist-cand-w3dense-p1]="${RECIPE[lsgan-mnist-cand-w3-p1]/--network=deligan_mnist/--network=deligan_mnist_dense}"
# Session 23: deligan-fashion-mnist twice as long with the rates decayed
# linearly to 0, the change that took lsgan-fashion-mnist's FD from 2.71 to
# 0.63 (20 -> 80 epochs). Seeds 1-2 are trained only if seed 0's FD on
# train[:10000] is below the recipe's seed 0 there (7.41 / 2.44); adopted
# only if the mean over seeds 0-2 there has a lower FD and no lower score
# than the recipe's 7.18 / 3.34, every seed's smallest class >= 5%.
# Session 23, seed 0: 7.23 / FD 3.58, smallest class 8.1% there (16 min):
# worse than the recipe's seed 0, not pursued; on 500 images the longer
# run does not pay as it did on 50,000.
RECIPE[deligan-fashion-mnist-cand-e300-ld]="${RECIPE[deligan-fashion-mnist]/--epochs=150/--epochs=300} --lr_decay=linear"
# Session 23: lsgan-mnist's width-3 phase over 40 epochs at four times the
# batch (256; 195 steps per epoch, so as many images as cand-w3-e40's
# 31,240 steps of 64): a larger batch is what raised BigGAN's Inception
# score most (Brock et al. 2019), and D's minibatch discrimination sees more
# of G's samples at once. Against cand-w3-e40's 9.04 / FD 2.36 on
# train[50000:]; pursued (seeds, a longer run) only if its score there is
# >= 9.14. Session 23: 8.57 / FD 7.15, smallest digit 7.6% there (about
# 40 min, 59 s an epoch idle): far worse; a quarter of the updates is not
# made up for by the larger batch. Not pursued.
RECIPE[lsgan-mnist-cand-w3-b256-e40]="${RECIPE[lsgan-mnist-cand-w3-e40]/--batch_size=64/--batch_size=256}"
RECIPE[lsgan-mnist-cand-w3-b256-e40]="${RECIPE[lsgan-mnist-cand-w3-b256-e40]/--steps_per_epoch=781/--steps_per_epoch=195}"
# Session 23: deligan-mnist's recipe at twice the batch (100 of the 500
# digits per step, so twice the images over the same 15,000 steps), for the
# same reason. Seeds 1-2 only if seed 0's FD on train[:10000] is below the
# recipe's seed 0 there (9.04 / 3.05); adopted only if the mean over seeds
# 0-2 there has a lower FD and no lower score than the recipe's 9.31 / 2.60.
# Session 23, seed 0: 9.12 / FD 2.44, smallest digit 7.5% there (about 10
# min): its FD is below the recipe's seed 0, so seeds 1-2 are trained.
# Seeds 1-2: 9.39 / 2.57 and 9.73 / 2.79 (smallest digit 8.2%, 8.2%); mean
# over seeds 0-2 9.414 / FD 2.599 against the recipe's 9.31 / 2.597 (seed 0
# 3.050, seeds 1-2 2.10 and 2.64 as the card gives them): the score is
# higher, the FD the same, not lower: not adopted by the rule.
RECIPE[deligan-mnist-cand-b100]="${RECIPE[deligan-mnist]/--batch_size=50/--batch_size=100}"
# Session 23: deligan-fashion-mnist's recipe at twice the batch (100), the
# change that lowered deligan-mnist's seed-0 FD (cand-b100). Seeds 1-2
# only if seed 0's FD on train[:10000] is below the recipe's seed 0 there
# (7.41 / 2.44); adopted only if the mean over seeds 0-2 there has a lower
# FD and no lower score than the recipe's 7.18 / 3.34, every seed's
# smallest class >= 5%. Session 23, seed 0: 7.35 / FD 3.23, smallest class
# 5.4% there (15 min): worse than the recipe's seed 0, not pursued.
RECIPE[deligan-fashion-mnist-cand-b100]="${RECIPE[deligan-fashion-mnist]/--batch_size=50/--batch_size=100}"
# Session 23: a ninth gan-mnist phase, the eighth again (80 epochs at 2e-4,
# average 0.99995) from its end: on validation (train[51000:60000], sigma
# on train[50000:51000]; validate --parzen) the Parzen number still rose
# from phase 7 to 8 for every seed (seed 1 227.5 -> 229.9, seed 2 226.1 ->
# 226.6). Seeds 1-2 (their whole chains) are trained only if seed 0's
# ninth phase there is >= 0.5 above its eighth's 226.25; adopted only if
# the mean over seeds 0-2 is above the eighth phases' 227.6. Session 23,
# seed 0 (from the shipped full weights, zoo_weights/gan-mnist, whose
# eighth phase re-measures at exactly 226.25 there; 80 epochs in about 14
# min): 229.1, score 8.83, FD 7.89 (the eighth: 226.2, 8.74, 8.44): seeds
# 1-2 are trained (their nine phases, about 1.8 h a seed here). Session 24:
# seeds 1-2 230.6 and 226.4 there, mean over seeds 0-2 228.7 > 227.6:
# adopted as the preset's ninth phase ([gan-mnist] above; this name keeps
# the folders the runs were trained in).
RECIPE[gan-mnist-cand-phase9]="${RECIPE[gan-mnist-phase8]/gan-mnist-phase7/gan-mnist}"
# Session 24: lsgan-mnist's width-3 phase 1 against a spectrally normalised
# discriminator (network deligan_mnist_sn: the same G; D's three convs and
# its logit kept at spectral norm 1, Miyato et al. 2018), all else as
# cand-w3-p1. Rule, written before it runs: against cand-w3-p1's 8.97 / FD
# 2.67 on train[50000:], pursued (40 epochs, then seeds 1-2) only if its
# score there is >= 9.07 and its FD <= 2.67. Session 24: 9.01 / FD 2.03,
# smallest digit 8.9% (23 min, the cores shared): a lower FD, but the
# score short of 9.07: not pursued by the rule. D's mean outputs +-0.31 at
# the end (the plain D: +-0.62 over 40 epochs, session 21).
RECIPE[lsgan-mnist-cand-w3sn-p1]="${RECIPE[lsgan-mnist-cand-w3-p1]/--network=deligan_mnist/--network=deligan_mnist_sn}"
ORDER=(gan-ring8 lsgan-ring8 deligan-ring8 gan-grid25 lsgan-grid25
       deligan-grid25 deligan-mnist gan-mnist-phase1
       gan-mnist-phase2 gan-mnist-phase3 gan-mnist-phase4
       gan-mnist-phase5 gan-mnist-phase6 gan-mnist-phase7 gan-mnist-phase8
       gan-mnist
       lsgan-mnist-phase1 lsgan-mnist-phase2 lsgan-mnist
       deligan-fashion-mnist lsgan-fashion-mnist)

# SEEDS=1,2 bash tools/train_presets.sh NAME trains other seeds of a recipe
# into runs/NAME-sS (the spread in the cards); the shipped seed is 0. A
# later phase of seed S starts from seed S's earlier phase (runs/X-sS).
for name in "${@:-${ORDER[@]}}"; do
  for seed in ${SEEDS//,/ }; do
    run="runs/$name"; args="${RECIPE[$name]}"
    if [ "$seed" != 0 ]; then
      run="runs/$name-s$seed"; args="${args//\/preset/-s$seed/preset}"
    fi
    if [ -f "$run/preset/metadata.json" ]; then
      echo "== $run: done"; continue
    fi
    echo "== $run: training"
    ganzoo train $args --seed="$seed" --verbose=2 --output_dir="$run" \
      || echo "== $run: FAILED"
  done
done
