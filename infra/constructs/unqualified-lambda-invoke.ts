/**
 * An EventBridge Scheduler target that invokes a Lambda function, like the stock
 * `LambdaInvoke`, but whose role may invoke the function's unqualified ARN only. The stock
 * target calls `grantInvoke`, which also allows every version and alias (`<arn>:*`), a
 * wildcard cdk-nag rightly flags (AwsSolutions-IAM5) and the schedule never needs.
 *
 * The role itself is still the stock one: assumable by scheduler.amazonaws.com only, for
 * this account's default schedule group (aws:SourceAccount / aws:SourceArn conditions).
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
 */
import { Grant, type IRole } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LambdaInvoke, type ScheduleTargetBaseProps } from 'aws-cdk-lib/aws-scheduler-targets';

export class UnqualifiedLambdaInvoke extends LambdaInvoke {
  private readonly invokedFunction: IFunction;

  constructor(func: IFunction, props: ScheduleTargetBaseProps = {}) {
    super(func, props);
    this.invokedFunction = func;
  }

  protected override addTargetActionToRole(role: IRole): void {
    Grant.addToPrincipal({
      grantee: role,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [this.invokedFunction.functionArn],
    });
  }
}
