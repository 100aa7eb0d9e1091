import { Logger, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { ApiKeyGuard } from './api-key.guard';
import { KeyStore } from './key-store';

@Module({
  imports: [RateLimitModule],
  providers: [
    {
      provide: KeyStore,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => KeyStore.fromConfig(config, new Logger('Auth')),
    },
    ApiKeyGuard,
  ],
  exports: [KeyStore, ApiKeyGuard],
})
export class AuthModule {}
