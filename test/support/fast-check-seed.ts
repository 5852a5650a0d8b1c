/**
 * In CI, property tests run with one fixed seed, so a run is reproducible and a green commit stays green;
 * on developers' machines every run draws new inputs and keeps looking for counterexamples.
 */
import fc from 'fast-check';

if (process.env.CI) fc.configureGlobal({ seed: 20_261_125 });
