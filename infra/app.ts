/**
 * The CDK app: one stack, checked by cdk-nag's AWS Solutions rules on every synth, so a
 * finding fails `cdk synth` (and `cdk deploy`) unless it is fixed or acknowledged with a
 * reason next to the resource.
 *
 * Configuration comes from context (`fanout:*` keys in cdk.json or `-c`), see config.ts.
 */
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FanoutStack } from './fanout-stack.ts';

const app = new App();

new FanoutStack(app, 'Fanout', {
  description: 'fanout: serverless fan-out compute pipeline (API Gateway, SQS, Lambda, DynamoDB)',
});
Tags.of(app).add('project', 'fanout');

// cdk-nag 3 is a policy-validation plugin (Aspects.of(app).add(...) was v2 and now throws).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

app.synth();
