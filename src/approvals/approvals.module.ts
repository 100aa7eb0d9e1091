import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { TasksModule } from '../tasks/tasks.module';
import { TemporalModule } from '../temporal/temporal.module';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsService } from './approvals.service';

/** Approval gates: decisions (Shannon's route) and each task's approvals. */
@Module({
  imports: [AuthModule, TasksModule, TemporalModule],
  controllers: [ApprovalsController],
  providers: [ApprovalsService],
})
export class ApprovalsModule {}
