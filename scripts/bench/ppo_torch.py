#!/usr/bin/env python3
"""Minimal PyTorch PPO on CartPole with CleanRL's ppo.py defaults, for the
side-by-side speed comparison of `cpntrain rl smoke --algo ppo --env cartpole`.

4 environments x 128 steps, GAE(0.99, 0.95), 4 epochs x 4 minibatches, clip 0.2,
value and entropy coefficients 0.5 / 0.01, grad-norm 0.5, Adam 2.5e-4 with
linear annealing, separate 64-64 tanh actor and critic with orthogonal init;
CartPole in numpy (the classic dynamics, 500-step limit); one thread.
Prints steps per second including updates, and the mean return of the last
20 episodes.

Usage: python3 scripts/bench/ppo_torch.py [total_steps] [seed]
"""
import sys
import time

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)


class CartPole:
    """Barto, Sutton and Anderson (1983) as Gymnasium's CartPole-v1."""

    def __init__(self, rng):
        self.rng = rng
        self.reset()

    def reset(self):
        self.s = self.rng.uniform(-0.05, 0.05, size=4)
        self.t = 0
        return self.s.astype(np.float32)

    def step(self, a):
        x, xd, th, thd = self.s
        force = 10.0 if a == 1 else -10.0
        ct, st = np.cos(th), np.sin(th)
        temp = (force + 0.05 * thd * thd * st) / 1.1
        thacc = (9.8 * st - ct * temp) / (0.5 * (4.0 / 3.0 - 0.1 * ct * ct / 1.1))
        xacc = temp - 0.05 * thacc * ct / 1.1
        x, xd = x + 0.02 * xd, xd + 0.02 * xacc
        th, thd = th + 0.02 * thd, thd + 0.02 * thacc
        self.s = np.array([x, xd, th, thd])
        self.t += 1
        term = bool(x < -2.4 or x > 2.4 or th < -0.2095 or th > 0.2095)
        trunc = self.t >= 500
        return self.s.astype(np.float32), 1.0, term, trunc


def layer(i, o, std=np.sqrt(2)):
    l = nn.Linear(i, o)
    nn.init.orthogonal_(l.weight, std)
    nn.init.constant_(l.bias, 0.0)
    return l


def main():
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    n_envs, n_steps, epochs, n_mb = 4, 128, 4, 4
    gamma, lam, clip, ent, vf, mgn, lr = 0.99, 0.95, 0.2, 0.01, 0.5, 0.5, 2.5e-4
    actor = nn.Sequential(layer(4, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, 2, 0.01))
    critic = nn.Sequential(layer(4, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, 1, 1.0))
    params = list(actor.parameters()) + list(critic.parameters())
    opt = torch.optim.Adam(params, lr=lr, eps=1e-5)
    envs = [CartPole(rng) for _ in range(n_envs)]
    obs = torch.tensor(np.stack([e.reset() for e in envs]))
    done = torch.zeros(n_envs)
    B = n_envs * n_steps
    iters = total // B
    ep_ret = np.zeros(n_envs)
    returns = []
    start = time.time()
    for it in range(iters):
        for g in opt.param_groups:
            g["lr"] = (1.0 - it / iters) * lr
        b_obs = torch.zeros(n_steps, n_envs, 4)
        b_act = torch.zeros(n_steps, n_envs, dtype=torch.long)
        b_lp = torch.zeros(n_steps, n_envs)
        b_rew = torch.zeros(n_steps, n_envs)
        b_done = torch.zeros(n_steps, n_envs)
        b_val = torch.zeros(n_steps, n_envs)
        for t in range(n_steps):
            b_obs[t], b_done[t] = obs, done
            with torch.no_grad():
                logits = actor(obs)
                dist = torch.distributions.Categorical(logits=logits)
                a = dist.sample()
                b_lp[t], b_val[t] = dist.log_prob(a), critic(obs).squeeze(-1)
            b_act[t] = a
            nxt, dn = [], []
            for i, e in enumerate(envs):
                o, r, term, trunc = e.step(int(a[i]))
                b_rew[t, i] = r
                ep_ret[i] += r
                if term or trunc:
                    returns.append(ep_ret[i])
                    ep_ret[i] = 0
                    o = e.reset()
                nxt.append(o)
                dn.append(float(term or trunc))
            obs, done = torch.tensor(np.stack(nxt)), torch.tensor(dn)
        with torch.no_grad():
            nv = critic(obs).squeeze(-1)
            adv = torch.zeros(n_steps, n_envs)
            last = 0
            for t in reversed(range(n_steps)):
                if t == n_steps - 1:
                    nnt, nval = 1.0 - done, nv
                else:
                    nnt, nval = 1.0 - b_done[t + 1], b_val[t + 1]
                delta = b_rew[t] + gamma * nval * nnt - b_val[t]
                last = delta + gamma * lam * nnt * last
                adv[t] = last
            ret = adv + b_val
        f_obs, f_act, f_lp = b_obs.reshape(B, 4), b_act.reshape(B), b_lp.reshape(B)
        f_adv, f_ret = adv.reshape(B), ret.reshape(B)
        mb = B // n_mb
        for _ in range(epochs):
            perm = torch.randperm(B)
            for s in range(0, B, mb):
                idx = perm[s:s + mb]
                dist = torch.distributions.Categorical(logits=actor(f_obs[idx]))
                lp = dist.log_prob(f_act[idx])
                ratio = (lp - f_lp[idx]).exp()
                a_ = f_adv[idx]
                a_ = (a_ - a_.mean()) / (a_.std() + 1e-8)
                pg = torch.max(-a_ * ratio, -a_ * torch.clamp(ratio, 1 - clip, 1 + clip)).mean()
                v = critic(f_obs[idx]).squeeze(-1)
                vl = 0.5 * ((v - f_ret[idx]) ** 2).mean()
                loss = pg - ent * dist.entropy().mean() + vf * vl
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(params, mgn)
                opt.step()
    el = time.time() - start
    steps = iters * B
    last = returns[-20:] if returns else [0]
    print(f"pytorch ppo on cartpole: {steps} steps, {steps / el:.0f} steps/s (updates included), "
          f"mean return of the last 20 episodes {np.mean(last):.1f}")


if __name__ == "__main__":
    main()
