import type { z } from "zod";
import type { conditionSchema, envVarSchema, failureSchema, modelServiceSchema, modelServiceSpecSchema, modelServiceStatusSchema } from "./schema.ts";

export type ModelService = z.infer<typeof modelServiceSchema>;
export type ModelServiceSpec = z.infer<typeof modelServiceSpecSchema>;
export type ModelServiceStatus = z.infer<typeof modelServiceStatusSchema>;
export type Condition = z.infer<typeof conditionSchema>;
export type Failure = z.infer<typeof failureSchema>;
export type EnvVar = z.infer<typeof envVarSchema>;
