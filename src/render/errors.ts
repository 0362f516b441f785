// A spec the CRD accepts but that cannot work (e.g. Triton with an hf:// model). The status code
// turns it into the condition reason InvalidSpec; the render command prints each problem.
export type Problem = {
  /** Dotted path into the ModelService, e.g. `spec.model.uri`. */
  path: string;
  message: string;
};

export class InvalidSpecError extends Error {
  readonly problems: Problem[];

  constructor(problems: Problem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join("; "));
    this.name = "InvalidSpecError";
    this.problems = problems;
  }
}
